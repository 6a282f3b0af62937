import Foundation
import MailClients
import ServiceDesk
import Testing

@testable import EmailChannel

@Suite("Mailbox credentials", .timeLimit(.minutes(1)))
struct MailboxCredentialsTests {
    @Test("a password is used as it is")
    func password() async throws {
        let credentials = try await MailboxCredentials.resolve(username: "u", secret: "p", method: .password)
        #expect(credentials.password == "p")
        #expect(credentials.oauth2AccessToken == nil)
    }

    @Test("an OAuth 2 token file is read anew at each login")
    func tokenFile() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try "ya29.first\n".write(to: file, atomically: true, encoding: .utf8)
        let first = try await MailboxCredentials.resolve(username: "u", secret: file.path, method: .oauth2File)
        #expect(first.oauth2AccessToken == "ya29.first")
        try "ya29.refreshed\n".write(to: file, atomically: true, encoding: .utf8)
        let second = try await MailboxCredentials.resolve(username: "u", secret: file.path, method: .oauth2File)
        #expect(second.oauth2AccessToken == "ya29.refreshed")
    }

    @Test("an OAuth 2 token command's first line is the token; a failing command is a clear error")
    func tokenCommand() async throws {
        let credentials = try await MailboxCredentials.resolve(
            username: "u", secret: "printf 'tok-123\\nignored\\n'", method: .oauth2Command)
        #expect(credentials.oauth2AccessToken == "tok-123")
        await #expect(throws: EmailChannelError.self) {
            try await MailboxCredentials.resolve(username: "u", secret: "exit 3", method: .oauth2Command)
        }
        await #expect(throws: EmailChannelError.self) {
            try await MailboxCredentials.resolve(username: "u", secret: "/nonexistent/token", method: .oauth2File)
        }
        // An unknown method is not representable: the stored or sent name does not decode.
        #expect(AuthMethod(rawValue: "kerberos") == nil)
    }

    @Test("a token command that hangs is killed with everything it started, and says so")
    func hangingCommand() async throws {
        do {
            _ = try await MailboxCredentials.run("sleep 60; echo late", timeout: 0.3)
            Issue.record("a hanging command must fail")
        } catch let error as EmailChannelError {
            #expect(error.code == .credentialUnavailable)
            #expect(error.message.contains("ran longer than"))
        }
    }

    @Test("a token command that prints without end is cut off at the output cap")
    func endlessOutput() async throws {
        do {
            _ = try await MailboxCredentials.run("yes token", timeout: 30)
            Issue.record("endless output must fail")
        } catch let error as EmailChannelError {
            #expect(error.message.contains("printed more than"))
        }
    }

    /// The cancelled command's task fails, saying the command was killed.
    static func expectKilled(_ task: Task<String, any Error>) async {
        do {
            _ = try await task.value
            Issue.record("a cancelled command must fail")
        } catch let error as EmailChannelError {
            #expect(error.message.contains("killed"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("a login cancelled before its token command has started never starts it", .timeLimit(.minutes(1)))
    func cancelledBeforeStart() async throws {
        let task = Task { try await MailboxCredentials.run("sleep 60; echo late", timeout: 60) }
        task.cancel()
        await Self.expectKilled(task)
    }

    @Test("cancelling the login (server shutdown) kills the token command", .timeLimit(.minutes(1)))
    func cancelled() async throws {
        let task = Task { try await MailboxCredentials.run("sleep 60; echo late", timeout: 60) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        await Self.expectKilled(task)
    }
}
