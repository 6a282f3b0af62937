import Foundation

/// What the redirect listener knows between connections: the state being waited for, the waiting continuation,
/// and redirects that arrived before anyone waited (answered once the state is known). One lock guards it all.
final class RedirectWaiter: @unchecked Sendable {
    /// How a connection answers the browser: status and an HTML page.
    typealias Respond = @Sendable (_ status: Int, _ html: String) -> Void

    let path: String
    private let lock = NSLock()
    private var expectedState: String?
    private var continuation: CheckedContinuation<String, any Error>?
    /// The wait whose continuation is registered, and waits cancelled before they registered theirs.
    private var activeWait: Int?
    private var cancelledWaits: Set<Int> = []
    private var nextWait = 0
    private var early: [(query: [(String, String)], respond: Respond)] = []
    private var finished: Result<String, any Error>?
    private var finishHook: (@Sendable () -> Void)?
    /// The most redirects kept while nobody waits; more get 503.
    static let earlyLimit = 16

    init(path: String) {
        self.path = path
    }

    /// Runs once when the listener has its answer: stops listening.
    var onFinish: (@Sendable () -> Void)? {
        get { lock.withLock { finishHook } }
        set { lock.withLock { finishHook = newValue } }
    }

    /// Waits for the redirect whose `state` matches; cancellation ends it with CancellationError.
    func wait(state: String) async throws -> String {
        let id: Int = lock.withLock {
            nextWait += 1
            return nextWait
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<String, any Error>) in
                let pending: [(query: [(String, String)], respond: Respond)] = lock.withLock {
                    if cancelledWaits.remove(id) != nil {
                        continuation.resume(throwing: CancellationError())
                    } else if let finished {
                        continuation.resume(with: finished)
                    } else if self.continuation != nil {
                        continuation.resume(
                            throwing: OAuthError.refused(
                                "the redirect listener is already waiting", fix: "wait for one authorization at a time")
                        )
                    } else {
                        self.continuation = continuation
                        activeWait = id
                        expectedState = state
                        defer { early.removeAll() }
                        return early
                    }
                    return []
                }
                for item in pending { handle(query: item.query, respond: item.respond) }
            }
        } onCancel: {
            let cancelled: CheckedContinuation<String, any Error>? = lock.withLock {
                guard activeWait == id else {
                    cancelledWaits.insert(id)
                    return nil
                }
                activeWait = nil
                expectedState = nil
                defer { continuation = nil }
                return continuation
            }
            cancelled?.resume(throwing: CancellationError())
        }
    }

    /// One GET on the listener: `target` is the request's path and query.
    func handle(target: String, respond: @escaping Respond) {
        let (requestPath, query) = Self.split(target)
        guard requestPath == path else {
            respond(404, Self.page("Not found", "This address is only for the sign-in redirect."))
            return
        }
        handle(query: FormEncoding.decode(query), respond: respond)
    }

    /// RFC 6749 §4.1.2 and §10.12: the state must match before the code or the error counts.
    private func handle(query: [(String, String)], respond: @escaping Respond) {
        let value = { (name: String) in query.first { $0.0 == name }?.1 }
        enum Decision {
            case kept
            case answered(Int, String)
            case resume(CheckedContinuation<String, any Error>, Result<String, any Error>, Int, String)
        }
        let decision: Decision = lock.withLock {
            if finished != nil {
                return .answered(410, Self.page("Already done", "postdesk already has an answer; close this tab."))
            }
            guard let expected = expectedState, let continuation else {
                guard early.count < Self.earlyLimit else {
                    return .answered(503, Self.page("Not ready", "postdesk is not waiting for a sign-in."))
                }
                early.append((query, respond))
                return .kept
            }
            guard let state = value("state"), state == expected else {
                return .answered(
                    400,
                    Self.page(
                        "Wrong state", "This redirect does not belong to the sign-in postdesk started; ignored."))
            }
            let result: Result<String, any Error>
            let page: (Int, String)
            if let error = value("error") {
                result = .failure(
                    OAuthError(
                        style: .custom, errorCode: error, errorDescription: value("error_description"),
                        httpStatus: nil))
                page = (200, Self.page("Not authorized", "The provider said: \(error). You can close this tab."))
            } else if let code = value("code"), !code.isEmpty {
                result = .success(code)
                page = (200, Self.page("Done", "postdesk has the authorization; you can close this tab."))
            } else {
                return .answered(400, Self.page("No code", "The redirect carried neither a code nor an error."))
            }
            finished = result
            self.continuation = nil
            activeWait = nil
            expectedState = nil
            return .resume(continuation, result, page.0, page.1)
        }
        switch decision {
        case .kept:
            break
        case .answered(let status, let html):
            respond(status, html)
        case .resume(let continuation, let result, let status, let html):
            respond(status, html)
            continuation.resume(with: result)
            onFinish?()
        }
    }

    /// Ends the wait (the listener is closing) and answers any early redirects.
    func finish(with result: Result<String, any Error>) {
        let (continuation, pending): (CheckedContinuation<String, any Error>?, [Respond]) = lock.withLock {
            if finished == nil { finished = result }
            defer {
                self.continuation = nil
                activeWait = nil
                early.removeAll()
            }
            return (self.continuation, early.map(\.respond))
        }
        for respond in pending { respond(503, Self.page("Closed", "postdesk stopped waiting for a sign-in.")) }
        continuation?.resume(with: result)
    }

    /// `/path?query` → (`/path`, `query`).
    static func split(_ target: String) -> (Substring, Substring) {
        guard let mark = target.firstIndex(of: "?") else { return (target[...], "") }
        return (target[..<mark], target[target.index(after: mark)...])
    }

    /// A small page; `text` is escaped (it may carry the provider's error code).
    static func page(_ title: String, _ text: String) -> String {
        let escape = { (text: String) in
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        return "<!doctype html><meta charset=\"utf-8\"><title>postdesk: \(escape(title))</title>"
            + "<p>\(escape(text))</p>\n"
    }
}
