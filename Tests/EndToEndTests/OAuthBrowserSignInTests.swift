import Foundation
import MailServerHarness
import OAuthTestServer
import Testing

/// `channel add --oauth-app … --browser` through the real binary: the CLI listens on 127.0.0.1 (RFC 8252 §7.3) and
/// prints the address to open; the test plays the browser (follows the authorization server's redirect to that
/// listener, as a browser on the admin's machine does through `ssh -L`); the server exchanges the code with its PKCE
/// verifier and links the mailbox. A declined sign-in links nothing.
@Suite("OAuth 2.0 browser sign-in, end to end", .serialized, .timeLimit(.minutes(3)))
struct OAuthBrowserSignInTests {
    static let user = "desk@oauth.test"

    /// A CLI run whose output is read while it runs.
    final class LiveCommand: @unchecked Sendable {
        let process = Process()
        private let lock = NSLock()
        private var output = Data()
        private let done = DispatchSemaphore(value: 0)

        init(_ desk: PostdeskProcess, _ arguments: [String]) throws {
            process.executableURL = PostdeskProcess.binary
            process.arguments = arguments + ["--socket", desk.socket]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = out
            process.standardInput = FileHandle.nullDevice
            try process.run()
            DispatchQueue.global().async { [self] in
                while true {
                    let chunk = out.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    lock.withLock { output.append(chunk) }
                }
                process.waitUntilExit()
                done.signal()
            }
        }

        var text: String { lock.withLock { String(decoding: output, as: UTF8.self) } }

        /// The first printed line that starts with `prefix` (trimmed), once it is there.
        func line(startingWith prefix: String, timeout: Duration = .seconds(30)) async throws -> String {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                let found = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.first {
                    $0.hasPrefix(prefix)
                }
                if let found { return found }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw PostdeskTestError("the CLI printed no line starting with \(prefix): \(text)")
        }

        /// Waits for the end; its status and everything it printed.
        func finish() async -> (status: Int32, text: String) {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async { [self] in
                    done.wait()
                    continuation.resume(returning: (process.terminationStatus, text))
                }
            }
        }
    }

    /// One HTTP/1.0 GET on 127.0.0.1, as a browser makes it: the status line and the Location header, if any.
    static func browserGet(_ url: String) async throws -> (status: String, location: String?) {
        guard let components = URLComponents(string: url), let port = components.port else {
            throw PostdeskTestError("not a loopback URL with a port: \(url)")
        }
        let target = components.percentEncodedPath + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        let fd = try LoopbackSocket.connect(port: port, timeoutSeconds: 10)
                        defer { close(fd) }
                        let request = "GET \(target) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n"
                        try LoopbackSocket.send(Array(request.utf8), to: fd, what: "GET")
                        let answer = String(decoding: try LoopbackSocket.readToEnd(fd, what: "answer"), as: UTF8.self)
                        let lines = answer.components(separatedBy: "\r\n")
                        let location = lines.first { $0.lowercased().hasPrefix("location:") }.map {
                            String($0.dropFirst("location:".count)).trimmingCharacters(in: .whitespaces)
                        }
                        return (lines.first ?? "", location)
                    })
            }
        }
    }

    @Test("a browser sign-in through the CLI's loopback listener links the mailbox; a declined one links nothing")
    func browserSignIn() async throws {
        var configuration = OAuthTestServerConfiguration()
        configuration.accessTokenLifetime = 600
        try await withOAuthDesk(
            configuration,
            clients: [
                OAuthClientRegistration(
                    id: "desk-web", secret: "web-secret", style: .google, scopes: ["https://mail.google.com/"])
            ]
        ) { server, servers, desk in
            try await run(server: server, servers: servers, desk: desk)
        }
    }

    private func run(server: OAuthTestServer, servers: MailServers, desk: PostdeskProcess) async throws {
        try servers.addOAuthUser(Self.user)
        try desk.createProject("BR", name: "Browser desk", signup: "public")
        let secretFile = desk.dataDirectory.appendingPathComponent("web-secret.txt")
        try Data("web-secret\n".utf8).write(to: secretFile)
        try desk.ok([
            "oauth", "app", "add", "web", "--provider", "custom", "--client-id", "desk-web", "--client-secret-file",
            secretFile.path, "--token-url", server.tokenURL, "--authorization-url", server.authorizationURL, "--scope",
            "https://mail.google.com/",
        ])
        let add = [
            "channel", "add", "BR", "--address", Self.user, "--protocol", "imap", "--host", "127.0.0.1", "--port",
            "\(servers.imapPort)", "--tls", "starttls", "--ca-file", servers.caFile, "--oauth-app", "web",
            "--browser", "--request-type", "Help",
        ]

        // Declined at the provider: the browser is sent back with error=access_denied, and nothing is linked.
        server.setAuthorizationDecision(.deny, forClient: "desk-web")
        let declined = try LiveCommand(desk, add)
        let declinedURL = try await declined.line(startingWith: server.authorizationURL)
        let refusal = try await Self.browserGet(declinedURL)
        #expect(refusal.status.contains("302"), "\(refusal)")
        _ = try await Self.browserGet(try #require(refusal.location))
        let declinedEnd = await declined.finish()
        #expect(declinedEnd.status != 0)
        #expect(declinedEnd.text.contains("access_denied"), "\(declinedEnd.text)")
        #expect(try desk.ok(["channel", "list"]).contains(Self.user) == false)

        // Approved: the code comes back to the CLI's listener, the server redeems it with the PKCE verifier.
        server.setAuthorizationDecision(.approve(user: Self.user), forClient: "desk-web")
        let approved = try LiveCommand(desk, add)
        let url = try await approved.line(startingWith: server.authorizationURL)
        #expect(url.contains("code_challenge_method=S256"), "\(url)")
        #expect(url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A"), "\(url)")
        #expect(try await approved.line(startingWith: "The browser is sent back to").contains("ssh -L"))
        let redirect = try await Self.browserGet(url)
        let callback = try #require(redirect.location)
        #expect(callback.hasPrefix("http://127.0.0.1:"), "\(callback)")
        // A forged redirect with another state is refused by the listener, and the sign-in goes on.
        let forged = callback.replacingOccurrences(of: "state=", with: "state=forged")
        #expect(try await Self.browserGet(forged).status.contains("400"))
        #expect(try await Self.browserGet(callback).status.contains("200"))
        let end = await approved.finish()
        #expect(end.status == 0, "\(end.text)")
        #expect(end.text.contains("Linked \(Self.user) to project BR"), "\(end.text)")

        try servers.deliver(
            Array(
                "From: Dan <dan@customer.test>\r\nTo: \(Self.user)\r\nSubject: Browser-linked request\r\nMessage-ID: <b1@customer.test>\r\n\r\nHello.\r\n"
                    .utf8), to: Self.user)
        _ = try await desk.eventually("the mail as BR-1") {
            try desk.json([QueueRow].self, ["queue", "BR"]).first { $0.summary == "Browser-linked request" }
        }
    }
}
