// swift-tools-version:5.9
// The Enumera Swift package: the uniffi-generated Swift over the Rust core
// (an XCFramework for devices and the simulator) and Swift conveniences.
// Build the XCFramework and the generated Swift first:
//   scripts/build-xcframework.sh    (on a Mac with Xcode; see ios/README.md)
import PackageDescription

let package = Package(
    name: "Enumera",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Enumera", targets: ["Enumera"]),
    ],
    targets: [
        // The static library and its C header; the module name is the one
        // the generated Swift imports.
        .binaryTarget(name: "EnumeraFFIFFI", path: "EnumeraFFI.xcframework"),
        .target(
            name: "Enumera",
            dependencies: ["EnumeraFFIFFI"],
            path: "Sources/Enumera"
        ),
    ]
)
