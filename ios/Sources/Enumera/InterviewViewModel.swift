import Foundation

/// An interview for SwiftUI: the screens, where the enumerator is, progress,
/// blockers and the last refused step. Every action commits to the device
/// database, so it runs on a background queue and publishes on the main one.
@MainActor
public final class InterviewViewModel: ObservableObject {
    @Published public private(set) var screens: [Screen] = []
    @Published public private(set) var index = 0
    @Published public private(set) var progress = Progress(answered: 0, asked: 0)
    @Published public private(set) var blockers: [ValidationIssue] = []
    @Published public private(set) var error: String?
    @Published public private(set) var finalized = false

    public let interview: Interview
    private let queue = DispatchQueue(label: "org.enumera.interview")

    public init(interview: Interview) {
        self.interview = interview
        perform { }
    }

    public var screen: Screen? { screens.indices.contains(index) ? screens[index] : nil }

    public func next() { index = min(index + 1, max(screens.count - 1, 0)) }
    public func back() { index = max(index - 1, 0) }

    public func answer(_ reference: String, _ value: String) {
        perform { _ = try self.interview.answer(reference: reference, value: value) }
    }

    public func addRepeat(_ reference: String) {
        perform { _ = try self.interview.addRepeat(reference: reference) }
    }

    public func finalize() {
        perform { _ = try self.interview.finalize() }
    }

    /// Runs `action` off the main thread, then reloads what the screen shows.
    private func perform(_ action: @escaping @Sendable () throws -> Void) {
        let interview = self.interview
        queue.async {
            var failure: String?
            var blocked: [ValidationIssue] = []
            do {
                try action()
            } catch let EnumeraError.Blocked(_, issues) {
                blocked = issues
            } catch let EnumeraError.InvalidAnswer(_, reason) {
                failure = reason
            } catch {
                failure = error.localizedDescription
            }
            let screens = (try? interview.screens()) ?? []
            let progress = (try? interview.progress()) ?? Progress(answered: 0, asked: 0)
            let finalized = interview.isFinalized()
            DispatchQueue.main.async {
                self.screens = screens
                self.progress = progress
                self.blockers = blocked
                self.error = failure
                self.finalized = finalized
                self.index = min(self.index, max(screens.count - 1, 0))
            }
        }
    }
}
