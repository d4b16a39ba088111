import Enumera
import SwiftUI

/// Installs the study's follow-up form, fills it, lists responses and syncs:
/// the same as the Android sample.
@main
struct EnumeraSampleApp: App {
    var body: some Scene {
        WindowGroup { HomeView() }
    }
}

@MainActor
final class Home: ObservableObject {
    let store: DeviceStore
    @Published var responses: [ResponseSummary] = []
    @Published var message: String?
    @Published var interview: InterviewViewModel?

    init() {
        let dir = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // A database that cannot be opened is a fatal setup error in a sample.
        store = try! DeviceStore.open(path: dir.appendingPathComponent("device.db").path)
        do {
            if (try? store.device()) == nil {
                _ = try store.initDevice(name: "sample iPad", enumeratorId: nil)
            }
            if let form = Bundle.main.url(forResource: "practice_followup", withExtension: "json") {
                _ = try store.installFormFile(path: form.path)
            }
            responses = try store.listResponses()
        } catch {
            message = error.localizedDescription
        }
    }

    func start() {
        do {
            let started = try store.startInterview(formId: "p2p_practice_followup", participantId: nil, round: nil, preload: false)
            interview = InterviewViewModel(interview: started)
        } catch {
            message = error.localizedDescription
        }
    }

    func sync(server: String, token: String) {
        guard let url = URL(string: server) else { return }
        let store = self.store
        Task.detached {
            let text: String
            do {
                let report = try SyncClient(store: store, transport: URLSessionTransport(baseURL: url), token: token).sync()
                text = "Sent \(report.uploaded), new forms \(report.formsInstalled.count), rosters \(report.rosters.count)"
            } catch {
                text = error.localizedDescription
            }
            let rows = (try? store.listResponses()) ?? []
            await MainActor.run {
                self.message = text
                self.responses = rows
            }
        }
    }
}

struct HomeView: View {
    @StateObject private var home = Home()
    @State private var server = "http://127.0.0.1:8080"
    @State private var token = ""

    var body: some View {
        NavigationStack {
            List {
                Section {
                    Button("New follow-up interview") { home.start() }
                    TextField("Server", text: $server)
                    TextField("Device token", text: $token)
                    Button("Sync") { home.sync(server: server, token: token) }
                    if let message = home.message { Text(message) }
                }
                Section("Responses") {
                    ForEach(home.responses, id: \.instanceId) { r in
                        Text("\(r.formId)  \(String(describing: r.state))")
                    }
                }
            }
            .navigationTitle("Enumera")
            .sheet(item: Binding(get: { home.interview.map(Identified.init) }, set: { home.interview = $0?.model })) { item in
                InterviewView(model: item.model)
            }
        }
    }
}

struct Identified: Identifiable {
    let model: InterviewViewModel
    var id: ObjectIdentifier { ObjectIdentifier(model) }
}

struct InterviewView: View {
    @ObservedObject var model: InterviewViewModel
    @State private var text = ""

    var body: some View {
        VStack(alignment: .leading, spacing: 12) {
            ProgressView(value: Double(model.progress.answered), total: Double(max(model.progress.asked, 1)))
            switch model.screen {
            case .question(let q)?:
                QuestionView(question: q) { model.answer(q.reference, $0) }
            case .fieldList(_, let label, let questions)?:
                if let label { Text(label).font(.headline) }
                ForEach(questions, id: \.reference) { q in QuestionView(question: q) { model.answer(q.reference, $0) } }
            case .addRepeat(let reference, let label, let count)?:
                Button("Add another \(label) (\(count) so far)") { model.addRepeat(reference); model.next() }
            case nil:
                Text("Nothing to ask.")
            }
            if let error = model.error { Text(error).foregroundColor(.red) }
            ForEach(model.blockers, id: \.reference) { Text("\($0.reference): \($0.text)").foregroundColor(.red) }
            HStack {
                Button("Back") { model.back() }
                Button("Next") { model.next() }
                Button("Finalize") { model.finalize() }
            }
            if model.finalized { Text("Finalized and queued for sync.") }
        }
        .padding()
    }
}

struct QuestionView: View {
    let question: Question
    let onAnswer: (String) -> Void
    @State private var text = ""

    var body: some View {
        VStack(alignment: .leading) {
            Text(question.label ?? question.reference).font(.headline)
            if let hint = question.hint { Text(hint).font(.caption) }
            if question.choices.isEmpty {
                TextField("Answer", text: $text).onSubmit { onAnswer(text) }
            } else {
                ForEach(question.choices, id: \.value) { c in
                    Button(c.label) { onAnswer(c.value) }
                        .bold(question.value.split(separator: " ").contains(Substring(c.value)))
                }
            }
            if let issue = question.issue { Text(issue.text).foregroundColor(.red) }
        }
        .onAppear { text = question.value }
    }
}
