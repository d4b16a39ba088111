import Foundation

/// The `HttpTransport` on URLSession. Rust calls it synchronously from the
/// thread that called `SyncClient.sync()` (never the main thread: call sync
/// from a `Task.detached` or a background queue), so it waits for the answer.
///
/// Failures to reach the server are thrown as `EnumeraError.Network`; HTTP
/// error statuses are returned for Rust to judge.
public final class URLSessionTransport: HttpTransport, @unchecked Sendable {
    private let base: URL
    private let session: URLSession
    private let timeout: TimeInterval

    public init(baseURL: URL, session: URLSession = .shared, timeout: TimeInterval = 60) {
        self.base = baseURL
        self.session = session
        self.timeout = timeout
    }

    public func send(request: HttpRequest) throws -> HttpResponse {
        guard let url = URL(string: request.path, relativeTo: base) else {
            throw EnumeraError.Network(detail: "bad path \(request.path)")
        }
        var req = URLRequest(url: url, timeoutInterval: timeout)
        req.httpMethod = request.method
        for (name, value) in request.headers {
            req.setValue(value, forHTTPHeaderField: name)
        }
        // A bundle or one part of it comes as a file: uploaded from the
        // file, never read whole into memory.
        let bodyFile = request.bodyPath.map { URL(fileURLWithPath: $0) }
        if bodyFile == nil && !request.body.isEmpty {
            req.httpBody = request.body
        }

        let done = DispatchSemaphore(value: 0)
        var result: Result<HttpResponse, Error> = .failure(EnumeraError.Network(detail: "no answer"))
        let handler: @Sendable (Data?, URLResponse?, Error?) -> Void = { data, response, error in
            defer { done.signal() }
            if let error {
                result = .failure(EnumeraError.Network(detail: error.localizedDescription))
                return
            }
            guard let http = response as? HTTPURLResponse else {
                result = .failure(EnumeraError.Network(detail: "not an HTTP answer"))
                return
            }
            var headers: [String: String] = [:]
            for (name, value) in http.allHeaderFields {
                headers["\(name)"] = "\(value)"
            }
            result = .success(HttpResponse(status: UInt16(clamping: http.statusCode), headers: headers, body: data ?? Data()))
        }
        let task = bodyFile.map { session.uploadTask(with: req, fromFile: $0, completionHandler: handler) }
            ?? session.dataTask(with: req, completionHandler: handler)
        task.resume()
        done.wait()
        return try result.get()
    }
}
