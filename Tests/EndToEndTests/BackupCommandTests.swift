import Foundation
import MailServerHarness
import Testing

/// `postdesk backup` while mail is being taken in, and `postdesk restore` into a new data directory
/// that a second server then runs on: every request, comment and attachment of the backup is there.
@Suite("Backup and restore, end to end", .serialized, .timeLimit(.minutes(3)))
struct BackupCommandTests {
    struct Manifest: Decodable {
        var requests: Int
        var comments: Int
        var attachments: [String]
        var includesSecretKey: Bool
    }

    struct Detail: Decodable {
        struct Attachment: Decodable {
            var filename: String
            var size: Int
            var sha256: String
            var path: String
        }
        var key: String
        var summary: String
        var comments: [RequestJSON.CommentJSON]
        var attachments: [Attachment]
    }

    static func mail(_ index: Int, tag: String, from: String, to: String) -> [UInt8] {
        Array(
            """
            From: \(from)\r
            To: \(to)\r
            Subject: Backup \(index)\r
            Message-ID: <b\(index)-\(tag)@customer.test>\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="b"\r
            \r
            --b\r
            Content-Type: text/plain\r
            \r
            Mail number \(index).\r
            --b\r
            Content-Type: text/plain; name="log-\(index).txt"\r
            Content-Disposition: attachment; filename="log-\(index).txt"\r
            \r
            attachment of mail \(index)\r
            --b--\r

            """.utf8)
    }

    @Test("a backup taken during ingest restores into a new server with every request, comment and attachment")
    func backupDuringIngest() async throws {
        let servers = try await MailServers.shared()
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let help = "backup-\(tag)@desk.test"
        try servers.addUser(help, password: "secret")
        let desk = try PostdeskProcess()
        try await desk.start()
        try desk.createProject("BK", name: "Backup", signup: "public")
        try desk.ok(
            [
                "channel", "add", "BK", "--address", help, "--host", "127.0.0.1", "--port", "\(servers.imapPort)",
                "--tls", "none", "--request-type", "Help",
            ], stdin: "secret\n")
        for index in 0..<10 {
            try servers.deliver(Self.mail(index, tag: tag, from: "c\(index)-\(tag)@customer.test", to: help), to: help)
        }
        _ = try await desk.eventually("the first requests") {
            try desk.json([QueueRow].self, ["queue", "BK"]).count >= 3 ? true : nil
        }
        try desk.ok(["request", "comment", "BK-1", "--author", "agent@desk.test", "--body", "Looking into it"])
        // More mail keeps arriving while the backup is taken.
        for index in 10..<30 {
            try servers.deliver(Self.mail(index, tag: tag, from: "c\(index)-\(tag)@customer.test", to: help), to: help)
        }
        let backup = desk.dataDirectory.deletingLastPathComponent().appendingPathComponent("backup-\(tag)")
        let manifest = try desk.json(Manifest.self, ["backup", backup.path])
        #expect(manifest.includesSecretKey)
        #expect(manifest.requests >= 3)
        #expect(manifest.attachments.count == manifest.requests)
        let refused = try desk.run(["backup", backup.path])
        #expect(refused.status != 0)
        #expect(refused.err.contains("not empty"), "\(refused.err)")
        let inBackup = try (1...manifest.requests).map { try desk.json(Detail.self, ["request", "show", "BK-\($0)"]) }
        try await desk.stop()

        // Restored into a new data directory, a second server has all of it.
        let restoredDirectory = backup.deletingLastPathComponent().appendingPathComponent("restored-\(tag)")
        let restored = try PostdeskProcess(dataDirectory: restoredDirectory)
        let restoreArguments = ["restore", backup.path, "--data-dir", restoredDirectory.path]
        let said = try restored.run(restoreArguments, socket: false)
        #expect(said.status == 0, "\(said.err)")
        #expect(said.out.contains("\(manifest.requests) requests"), "\(said.out)")
        let again = try restored.run(restoreArguments, socket: false)
        #expect(again.status != 0)
        #expect(again.err.contains("already has a database"), "\(again.err)")
        try await restored.start()
        for before in inBackup {
            let after = try restored.json(Detail.self, ["request", "show", before.key])
            #expect(after.summary == before.summary)
            #expect(after.comments.map(\.body) == before.comments.map(\.body))
            #expect(after.attachments.map(\.sha256) == before.attachments.map(\.sha256))
            for attachment in after.attachments {
                #expect(attachment.path.hasPrefix(restoredDirectory.path))
                #expect((try? Data(contentsOf: URL(fileURLWithPath: attachment.path)))?.count == attachment.size)
            }
        }
        #expect(
            try restored.json(Detail.self, ["request", "show", "BK-1"]).comments.contains {
                $0.body == "Looking into it"
            })
        // The restored server kept the mailbox's password (the key came along) and goes on taking mail.
        try servers.deliver(Self.mail(99, tag: tag, from: "late-\(tag)@customer.test", to: help), to: help)
        _ = try await restored.eventually("mail after the restore") {
            try restored.json([QueueRow].self, ["queue", "BK"]).first { $0.summary == "Backup 99" }
        }
        // A restore never goes into a running server's directory.
        let running = try restored.run(["restore", backup.path, "--data-dir", restoredDirectory.path], socket: false)
        #expect(running.status != 0)
        #expect(running.err.contains("already running") || running.err.contains("already has a database"))
        try await restored.stop()
    }
}
