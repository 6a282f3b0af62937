import Foundation
import Testing

/// `postdesk agent add`, `list` and `disable` through the real binary and server: a password goes in from a
/// file or stdin and never comes back out, in the answers or the server's log; without one a one-time link
/// is printed.
@Suite("Agents, end to end", .serialized, .timeLimit(.minutes(2)))
struct AgentCommandTests {
    struct Agent: Decodable {
        var id: Int64
        var email: String
        var name: String
        var role: String
        var disabled: Bool
        var passwordSet: Bool
    }

    struct Added: Decodable {
        var agent: Agent
        var setupPath: String?
    }

    @Test("agents are added with a password file, from stdin and with a link; listed; and disabled")
    func addListDisable() async throws {
        let desk = try PostdeskProcess()
        try await desk.start()
        let password = "file-password-4f1c9e"
        let stdinPassword = "stdin-password-77b0d2"
        let passwordFile = desk.dataDirectory.appendingPathComponent("agent-password.txt")
        try Data((password + "\n").utf8).write(to: passwordFile)

        let alice = try desk.ok([
            "agent", "add", "Alice@Desk.test", "--name", "Alice Agent", "--role", "admin", "--password-file",
            passwordFile.path,
        ])
        #expect(alice.contains("Added agent alice@desk.test (Alice Agent, admin)."), "\(alice)")
        #expect(!alice.contains("Set the password"), "\(alice)")
        #expect(!alice.contains(password))

        let carol = try desk.ok(
            ["agent", "add", "carol@desk.test", "--name", "Carol", "--role", "agent", "--password-file", "-"],
            stdin: stdinPassword + "\n")
        #expect(carol.contains("Added agent carol@desk.test (Carol, agent)."), "\(carol)")

        let bob = try desk.ok(["agent", "add", "bob@desk.test", "--name", "Bob", "--role", "agent"])
        #expect(bob.contains("Added agent bob@desk.test (Bob, agent)."), "\(bob)")
        // No console listens: the link is the path on it.
        let linkLine = try #require(bob.split(separator: "\n").first { $0.hasPrefix("Set the password") })
        #expect(linkLine.hasPrefix("Set the password within 48 hours at: /password/"), "\(linkLine)")
        let token = String(try #require(linkLine.split(separator: "/").last))
        #expect(token.count == 43)

        let dave = try desk.json(Added.self, ["agent", "add", "dave@desk.test", "--name", "Dave", "--role", "agent"])
        #expect(dave.setupPath?.hasPrefix("/password/") == true)
        #expect(dave.setupPath?.hasSuffix(token) == false, "every link is new")

        // Refusals reach the admin as one line and a failure status, and store nothing.
        let duplicate = try desk.run(["agent", "add", "ALICE@desk.test", "--name", "Again", "--role", "agent"])
        #expect(duplicate.status != 0)
        #expect(duplicate.err.contains("already exists"), "\(duplicate.err)")
        let shortFile = desk.dataDirectory.appendingPathComponent("short.txt")
        try Data("tooshort\n".utf8).write(to: shortFile)
        let short = try desk.run([
            "agent", "add", "erin@desk.test", "--name", "Erin", "--role", "agent", "--password-file", shortFile.path,
        ])
        #expect(short.status != 0)
        #expect(short.err.contains("at least 10 characters"), "\(short.err)")
        #expect(!short.err.contains("tooshort"))
        let role = try desk.run(["agent", "add", "erin@desk.test", "--name", "Erin", "--role", "owner"])
        #expect(role.status != 0)

        let text = try desk.ok(["agent", "list"])
        let rows = text.split(separator: "\n").map(String.init)
        #expect(rows.first?.hasPrefix("EMAIL") == true, "\(text)")
        #expect(
            rows.dropFirst().map { $0.split(separator: " ").first.map(String.init) ?? "" } == [
                "alice@desk.test", "bob@desk.test", "carol@desk.test", "dave@desk.test",
            ])
        #expect(rows.contains { $0.contains("alice@desk.test") && $0.contains("admin") && $0.hasSuffix(" set") })
        #expect(rows.contains { $0.contains("bob@desk.test") && $0.contains("active") && $0.hasSuffix("not set") })
        for secret in [password, stdinPassword, "$2b$"] { #expect(!text.contains(secret)) }

        let disabled = try desk.ok(["agent", "disable", "BOB@desk.test"])
        #expect(disabled.contains("Disabled agent bob@desk.test"), "\(disabled)")
        let agents = try desk.json([Agent].self, ["agent", "list"])
        #expect(agents.map(\.email) == ["alice@desk.test", "bob@desk.test", "carol@desk.test", "dave@desk.test"])
        #expect(agents.map(\.disabled) == [false, true, false, false])
        #expect(agents.map(\.passwordSet) == [true, false, true, false])
        #expect(agents.map(\.role) == ["admin", "agent", "agent", "agent"])
        let json = try desk.run(["agent", "list", "--json"])
        for secret in [password, stdinPassword, "$2b$"] { #expect(!json.out.contains(secret)) }
        let unknown = try desk.run(["agent", "disable", "nobody@desk.test"])
        #expect(unknown.status != 0)
        #expect(unknown.err.contains("no agent with the address nobody@desk.test"), "\(unknown.err)")

        try await desk.stop()
        for secret in [password, stdinPassword, token] {
            #expect(!desk.serverLog.contains(secret), "the server's log never holds a password or a link token")
        }
    }
}
