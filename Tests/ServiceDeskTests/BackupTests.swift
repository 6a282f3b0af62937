import Foundation
import GRDB
import Testing

@testable import ServiceDesk

/// A fresh temporary directory.
private func temporaryDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("postdesk-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite("Backup and schema versions")
struct BackupTests {
    @Test("backups taken while mail is stored are consistent snapshots whose every attachment is there")
    func backupDuringIntake() async throws {
        let (store, channel, _) = try await fileDesk()
        let writer = Task {
            for index in 0..<120 {
                let raw = Array("From: c\(index)@customer.test\r\nSubject: Mail \(index)\r\n\r\nBody \(index)\r\n".utf8)
                let stored = try await store.receive(channelId: channel, raw: raw, mailboxUid: "\(index)")
                let reading = intake(
                    from: "c\(index)@customer.test", subject: "Mail \(index)", messageID: "m\(index)@customer.test",
                    attachments: [
                        IncomingAttachment(
                            filename: "log-\(index).txt", contentType: "text/plain", isInline: false,
                            data: Array("attachment \(index)\n".utf8))
                    ])
                _ = try await store.process(reading, inboundId: stored.inboundId, policy: IntakePolicy())
            }
        }
        var manifests: [BackupManifest] = []
        for round in 0..<3 {
            try await Task.sleep(for: .milliseconds(40))
            let target = try temporaryDirectory("backup-\(round)")
            manifests.append(try await store.backup(to: target))
            // The copy opens as a desk of its own, and everything it names is in it.
            let copy = try DeskStore(path: target.appendingPathComponent("postdesk.sqlite").path, secrets: SecretBox())
            let requests = try await copy.queue(projectKey: "SD")
            #expect(requests.count == manifests[round].requests)
            #expect(manifests[round].attachments.count == manifests[round].requests)
            for request in requests {
                for attachment in try await copy.attachments(requestKey: request.key) {
                    let bytes = try Data(contentsOf: URL(fileURLWithPath: attachment.path))
                    #expect(bytes.count == attachment.size)
                    #expect(attachment.path.hasPrefix(target.path))
                }
            }
        }
        try await writer.value
        let last = try temporaryDirectory("backup-final")
        let final = try await store.backup(to: last)
        #expect(final.requests == 120)
        #expect(final.attachments.count == 120)
        #expect(final.schema == DeskStore.schemaVersion)
        #expect(manifests.map(\.requests) == manifests.map(\.requests).sorted())
        // Never over something: a second backup into the same directory is refused.
        await #expect(throws: DeskError.self) { try await store.backup(to: last) }
    }

    @Test("a database written by a newer postdesk is refused, naming both schema versions")
    func newerSchemaRefused() async throws {
        let directory = try temporaryDirectory("newer")
        let path = directory.appendingPathComponent("postdesk.sqlite").path
        _ = try DeskStore(path: path, secrets: SecretBox())
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-future')")
        }
        try queue.close()
        let error = try #require(throws: DeskError.self) { _ = try DeskStore(path: path, secrets: SecretBox()) }
        #expect(error.message.contains("v99-future"), "\(error.message)")
        #expect(error.message.contains(DeskStore.schemaVersion), "\(error.message)")
    }

    @Test(
        "a database made by every earlier schema version is upgraded with its data",
        arguments: DeskStore.migrator.migrations)
    func upgradeFrom(version: String) async throws {
        let directory = try temporaryDirectory("upgrade")
        let path = directory.appendingPathComponent("postdesk.sqlite").path
        let old = try DatabaseQueue(path: path)
        try DeskStore.migrator.migrate(old, upTo: version)
        // Rows as the first schema has them: every later migration must carry them.
        try await old.write { db in
            try db.execute(
                sql: """
                    INSERT INTO project (id, key, name, signup, nextRequestNumber, createdAt)
                        VALUES (1, 'SD', 'Service Desk', 'public', 2, '2026-11-01 10:00:00.000');
                    INSERT INTO requestType (id, projectId, name, fields) VALUES (1, 1, 'Get help', '[]');
                    INSERT INTO channel (id, projectId, address, accountKey, protocol, host, port, tls, username, secret,
                        requestTypeId, enabled, linkedAt, uidValidity, uidNextAtLink)
                        VALUES (1, 1, 'help@desk.test', 'imap://help@127.0.0.1', 'imap', '127.0.0.1', 10143, 'none',
                        'help', x'00', 1, 1, '2026-11-01 10:00:00.000', 7, 1);
                    INSERT INTO request (id, projectId, key, requestTypeId, channelId, summary, description, status,
                        reporter, createdAt, updatedAt)
                        VALUES (1, 1, 'SD-1', 1, 1, 'Printer', 'It is jammed.', 'Waiting for support', 'alice@customer.test',
                        '2026-11-01 10:00:00.000', '2026-11-01 10:00:00.000');
                    INSERT INTO inbound (id, channelId, dedupeKey, messageId, raw, mailboxUid, fetchedAt, processedAt,
                        fromAddress, subject, outcome, requestKey)
                        VALUES (1, 1, 'msgid:m1@customer.test', 'm1@customer.test', x'4142', '1',
                        '2026-11-01 10:00:00.000', '2026-11-01 10:00:00.000', 'alice@customer.test', 'Printer',
                        'created', 'SD-1');
                    INSERT INTO comment (id, requestId, author, body, isPublic, source, inboundId, createdAt)
                        VALUES (1, 1, 'agent@desk.test', 'On it', 1, 'agent', NULL, '2026-11-01 11:00:00.000');
                    """)
        }
        try old.close()

        let store = try DeskStore(path: path, secrets: SecretBox())
        let detail = try await store.request(key: "SD-1")
        #expect(detail.request.summary == "Printer")
        #expect(detail.comments.map(\.body) == ["On it"])
        #expect(try await store.channels().map(\.channel.address) == ["help@desk.test"])
        #expect(
            try await store.processingLog(channelAddress: nil, since: nil, limit: 10).contains {
                $0.requestKey == "SD-1"
            })
        // The upgraded file carries every migration, and intake works on it.
        let manifest = try DeskStore.describe(database: URL(fileURLWithPath: path))
        #expect(manifest.schema == DeskStore.schemaVersion)
        let stored = try await store.receive(
            channelId: 1, raw: Array("From: bob@customer.test\r\nSubject: New\r\n\r\nHi\r\n".utf8), mailboxUid: "2")
        let disposition = try await store.process(
            intake(from: "bob@customer.test", subject: "New", messageID: "m2@customer.test"),
            inboundId: stored.inboundId, policy: IntakePolicy())
        #expect(disposition.requestKey == "SD-2")
        // And so does every table added since, such as the OAuth app registrations.
        _ = try await store.addOAuthApp(
            OAuthAppDraft(
                name: "upgraded", provider: .custom, clientId: "postdesk", clientSecret: "s", tenant: nil,
                authorizationURL: nil, tokenURL: "http://127.0.0.1:9/token",
                deviceAuthorizationURL: "http://127.0.0.1:9/device", scopes: [], caFile: nil))
        #expect(try await store.oauthApps().map(\.name) == ["upgraded"])
    }
}
