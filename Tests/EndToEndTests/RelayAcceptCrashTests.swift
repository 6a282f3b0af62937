import Foundation
import MailServerHarness
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The one crash window of the outbox that the random crash harness cannot aim at: the relay has
/// answered 250 to a notification, and postdesk is killed before its outbox row says sent. The test
/// opens the window on purpose, with real parts only: it holds SQLite's write lock (as any other
/// writer could) so that recording the delivery waits, lets the real OpenSMTPD take the mail, and
/// SIGKILLs postdesk while the row is still pending. After the restart the notification is sent
/// again, and the customer's mailbox holds two copies with the one Message-ID the outbox fixed
/// when it wrote the row (so a mail client shows one message), and the row is then sent.
@Suite("Killed between the relay's 250 and the outbox's record", .serialized, .timeLimit(.minutes(3)))
struct RelayAcceptCrashTests {
    struct OutboxItem: Decodable {
        var id: Int64
        var status: String
    }

    struct CommentAnswer: Decodable {
        var notificationMessageId: String?
    }

    @Test("a notification resent after a kill between 250 and the record keeps its Message-ID")
    func resentWithTheSameMessageID() async throws {
        // A private OpenSMTPD: the test stops it, which the shared one must never be.
        let servers = try await MailServers.start()
        defer { servers.stop() }
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let help = "relaycrash-\(tag)@desk.test"
        let alice = "alice-\(tag)@customer.test"
        for user in [help, alice] { try servers.addUser(user, password: "secret") }
        let desk = try PostdeskProcess()
        try await desk.start()
        try desk.createProject("RC", name: "Relay crash", signup: "public")
        try desk.ok([
            "smtp", "set", "--host", "127.0.0.1", "--port", "\(servers.smtpPort)", "--tls", "none", "--from", help,
        ])
        try desk.ok(
            [
                "channel", "add", "RC", "--address", help, "--host", "127.0.0.1", "--port", "\(servers.imapPort)",
                "--tls", "none", "--request-type", "Help",
            ], stdin: "secret\n")
        try servers.deliver(
            Array(
                "From: \(alice)\r\nTo: \(help)\r\nSubject: Scanner\r\nMessage-ID: <s-\(tag)@customer.test>\r\n\r\nIt jams.\r\n"
                    .utf8), to: help)
        _ = try await desk.eventually("RC-1 in the queue") { try desk.json([QueueRow].self, ["queue", "RC"]).first }

        // The relay is down when the agent comments: the notification is held, the relay retried in 30 s.
        servers.stopSMTPServer()
        let answer = try desk.json(
            CommentAnswer.self,
            ["request", "comment", "RC-1", "--author", "agent@desk.test", "--body", "On it", "--json"])
        let messageID = try #require(answer.notificationMessageId)
        _ = try await desk.eventually("the relay failing") {
            try desk.ok(["status"]).contains("SMTP relay: failing") ? true : nil
        }
        try await servers.restartSMTPServer()

        // Hold the write lock, and wait for the relay to deliver: the record of the 250 now waits.
        let lock = try WriteLock(database: desk.dataDirectory.appendingPathComponent("postdesk.sqlite"))
        let first = try await servers.waitForMessages(1, in: alice, timeout: .seconds(60))
        try await desk.stop(signal: SIGKILL)
        try lock.release()
        let rows = try Self.outboxStatuses(desk.dataDirectory.appendingPathComponent("postdesk.sqlite"))
        #expect(rows == ["pending"], "the kill must land before the row is marked sent: \(rows)")

        // After the restart the row is due again: a second copy, the same Message-ID, then sent.
        try await desk.start()
        let copies = try await servers.waitForMessages(2, in: alice, timeout: .seconds(60))
        let ids = copies.compactMap { FourStepLoopTests.header("Message-ID", in: $0.raw).map(CrashHarness.bare) }
        #expect(ids.count == 2)
        #expect(Set(ids) == [CrashHarness.bare(messageID)], "copies: \(ids), the API answered \(messageID)")
        #expect(
            first.first.flatMap { FourStepLoopTests.header("Message-ID", in: $0.raw) }.map(CrashHarness.bare)
                == CrashHarness.bare(messageID))
        let sent = try await desk.eventually("the notification recorded as sent") {
            try desk.json([OutboxItem].self, ["outbox"]).first { $0.status == "sent" }
        }
        #expect(try desk.json([OutboxItem].self, ["outbox"]).map(\.id) == [sent.id])
        try await desk.stop()
    }

    /// The status of every outbox row, read from the file while postdesk is down.
    static func outboxStatuses(_ database: URL) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = ["-readonly", database.path, "SELECT status FROM outbox ORDER BY id"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}

/// SQLite's write lock on a database, held by another process (`BEGIN IMMEDIATE` in python3's sqlite3)
/// until `release()`: every writer of postdesk waits behind it, readers do not (WAL).
final class WriteLock {
    private let process = Process()
    private let input = Pipe()

    init(database: URL) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let script = """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
            db.execute("BEGIN IMMEDIATE")
            print("locked", flush=True)
            sys.stdin.read()
            db.execute("ROLLBACK")
            """
        process.arguments = ["python3", "-c", script, database.path]
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let line = output.fileHandleForReading.readData(ofLength: 7)
        guard String(decoding: line, as: UTF8.self) == "locked\n" else {
            process.terminate()
            throw PostdeskTestError("could not take the SQLite write lock")
        }
    }

    /// Ends the transaction and the process.
    func release() throws {
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}
