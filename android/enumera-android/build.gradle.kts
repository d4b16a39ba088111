// The Enumera Android library: the uniffi-generated Kotlin, the native
// library for each ABI, and Kotlin conveniences (OkHttp transport, a
// StateFlow over an interview). Run ../scripts/build-android.sh first: it
// builds the .so files with cargo-ndk and generates the Kotlin into
// build/generated/ (never committed).

plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "org.enumera.android"
    compileSdk = 35

    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
    }

    sourceSets["main"].apply {
        java.srcDir(layout.buildDirectory.dir("generated/uniffi/kotlin"))
        jniLibs.srcDir(layout.buildDirectory.dir("generated/jniLibs"))
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions {
        jvmTarget = "17"
    }
}

dependencies {
    // The generated bindings call the native library through JNA; the @aar
    // carries JNA's own native parts for every ABI.
    api("net.java.dev.jna:jna:5.15.0@aar")
    api("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.9.0")
    implementation("com.squareup.okhttp3:okhttp:4.12.0")
}
