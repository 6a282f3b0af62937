import Foundation
import GRDB
import Testing

@testable import ServiceDesk

/// A desk with requests SD-1…SD-n, one mail each (distinct Message-IDs), summaries and bodies as given.
private func desk(on backend: StoreBackend = .sqlite, _ mails: [(subject: String, body: String)]) async throws -> (
    DeskStore, Int64
) {
    let (store, channel) = try await makeDesk(on: backend)
    for (index, mail) in mails.enumerated() {
        let outcome = try await storeAndApply(
            store, channel: channel,
            intake(
                from: "customer\(index)@customer.test", subject: mail.subject, body: mail.body,
                messageID: "m\(index)@customer.test"))
        #expect(outcome == .created("SD-\(index + 1)"))
    }
    return (store, channel)
}

private func keys(_ items: [QueueItem]) -> [String] { items.map(\.key) }

@Suite("The console's queries: queue views, search, assignment, status and attachments")
struct ConsoleQueryTests {
    @Test("each queue view lists the right requests, newest first", arguments: StoreBackend.allCases)
    func filters(backend: StoreBackend) async throws {
        let (store, _) = try await desk(
            on: backend,
            [
                ("Printer jammed", "a"), ("VPN down", "b"), ("Password reset", "c"), ("New laptop", "d"),
            ])
        let alice = try await store.addAgent(email: "alice@desk.test", name: "Alice", role: .agent, passwordHash: nil)
        let bob = try await store.addAgent(email: "bob@desk.test", name: "Bob", role: .agent, passwordHash: nil)
        _ = try await store.addAgentComment(
            requestKey: "SD-2", author: "alice@desk.test", body: "Restart it", isPublic: true)
        try await store.setRequestStatus(key: "SD-3", status: .resolved)
        try await store.assignRequest(key: "SD-4", agentId: alice.id)
        try await store.assignRequest(key: "SD-3", agentId: alice.id)

        func view(_ filter: QueueFilter, agent: Int64? = nil) async throws -> [String] {
            keys(try await store.consoleQueue(projectKey: "sd", filter: filter, agentId: agent, search: nil))
        }
        #expect(try await view(.open) == ["SD-4", "SD-2", "SD-1"])
        #expect(try await view(.support) == ["SD-4", "SD-1"])
        #expect(try await view(.customer) == ["SD-2"])
        #expect(try await view(.mine, agent: alice.id) == ["SD-4"])
        #expect(try await view(.mine, agent: bob.id) == [])
        #expect(try await view(.unassigned) == ["SD-2", "SD-1"])

        let open = try await store.consoleQueue(projectKey: "SD", filter: .open, agentId: nil, search: nil)
        #expect(open.map(\.assignee) == ["Alice", nil, nil])
        #expect(open.map(\.status) == [.waitingForSupport, .waitingForCustomer, .waitingForSupport])
        #expect(open.last?.summary == "Printer jammed")
        #expect(open.last?.reporter == "customer0@customer.test")
        #expect(
            try await store.consoleQueue(projectKey: "SD", filter: .open, agentId: nil, search: nil, limit: 2)
                .count == 2)

        let mine = await #expect(throws: DeskError.self) {
            _ = try await store.consoleQueue(projectKey: "SD", filter: .mine, agentId: nil, search: nil)
        }
        #expect(mine?.code == .invalid)
        let unknown = await #expect(throws: DeskError.self) {
            _ = try await store.consoleQueue(projectKey: "XX", filter: .open, agentId: nil, search: nil)
        }
        #expect(unknown?.code == .notFound)
    }

    @Test(
        "search finds words in the summary, the description and comments; all words must occur",
        arguments: StoreBackend.allCases)
    func search(backend: StoreBackend) async throws {
        let (store, channel) = try await desk(
            on: backend,
            [
                ("Printer jammed", "Paper is stuck in tray 2."), ("Monitor flickers", "Since Monday."),
                ("Keyboard", "Some keys do not work."),
            ])
        // A customer's reply and an internal note are comments of SD-2 and SD-3.
        _ = try await storeAndApply(
            store, channel: channel,
            intake(
                from: "customer1@customer.test", subject: "Re: [SD-2] Monitor flickers", body: "The cable is loose.",
                messageID: "r1@customer.test", references: ["m1@customer.test"]))
        _ = try await store.addAgentComment(
            requestKey: "SD-3", author: "alice@desk.test", body: "Ordered a replacement keyboard", isPublic: false)

        func search(_ text: String?) async throws -> [String] {
            keys(try await store.consoleQueue(projectKey: "SD", filter: .open, agentId: nil, search: text))
        }
        #expect(try await search("jammed") == ["SD-1"])
        #expect(try await search("JAMMED") == ["SD-1"])
        #expect(try await search("stuck") == ["SD-1"])
        #expect(try await search("cable") == ["SD-2"])
        #expect(try await search("replacement") == ["SD-3"])
        #expect(try await search("keyboard replacement") == ["SD-3"])
        #expect(try await search("monitor cable") == ["SD-2"])
        #expect(try await search("monitor keyboard") == [])
        #expect(try await search(nil) == ["SD-3", "SD-2", "SD-1"])
        #expect(try await search("") == ["SD-3", "SD-2", "SD-1"])
        #expect(try await search("  \t\u{3000} ") == ["SD-3", "SD-2", "SD-1"])
        // A search combines with the view.
        try await store.setRequestStatus(key: "SD-2", status: .resolved)
        #expect(try await search("cable") == [])
        #expect(
            keys(try await store.consoleQueue(projectKey: "SD", filter: .open, agentId: nil, search: "tray 2"))
                == ["SD-1"])
    }

    @Test(
        "Japanese text is found by any part of it, also two-character words, in requests and comments",
        arguments: StoreBackend.allCases)
    func japanese(backend: StoreBackend) async throws {
        let (store, channel) = try await desk(
            on: backend,
            [
                ("プリンターが壊れました", "印刷できません。至急お願いします。"), ("パスワードを忘れました", "ログインできません。"),
            ])
        _ = try await storeAndApply(
            store, channel: channel,
            intake(
                from: "customer0@customer.test", subject: "Re: [SD-1] プリンターが壊れました", body: "トナーを交換しても直りません。",
                messageID: "r0@customer.test", references: ["m0@customer.test"]))
        func search(_ text: String) async throws -> [String] {
            keys(try await store.consoleQueue(projectKey: "SD", filter: .open, agentId: nil, search: text))
        }
        #expect(try await search("壊れました") == ["SD-1"])
        #expect(try await search("プリンター") == ["SD-1"])
        #expect(try await search("トナー") == ["SD-1"])
        #expect(try await search("交換") == ["SD-1"])
        #expect(try await search("印刷") == ["SD-1"])
        #expect(try await search("忘れ") == ["SD-2"])
        #expect(try await search("できません") == ["SD-2", "SD-1"])
        #expect(try await search("できません　ログイン") == ["SD-2"])
        #expect(try await search("プリンター パスワード") == [])
    }

    /// A search the user typed, and the requests it must find: every one is literal text, never FTS5 syntax.
    struct Hostile: Sendable, CustomTestStringConvertible {
        var search: String
        var found: [String]
        var testDescription: String { search }
    }

    static let hostile: [Hostile] = [
        Hostile(search: "\"", found: ["SD-3"]),
        Hostile(search: "\"hi\"", found: ["SD-3"]),
        Hostile(search: "say \"hi", found: ["SD-3"]),
        Hostile(search: "\"unbalanced", found: []),
        Hostile(search: "*", found: ["SD-4"]),
        Hostile(search: "5*", found: ["SD-4"]),
        // As FTS5 syntax this would be a prefix query and find "printer".
        Hostile(search: "print*", found: []),
        Hostile(search: "NEAR(", found: []),
        Hostile(search: "NEAR(printer toner)", found: []),
        Hostile(search: "(near", found: ["SD-2"]),
        // As FTS5 syntax these would find SD-1 and SD-2.
        Hostile(search: "printer OR toner", found: []),
        Hostile(search: "printer AND NOT toner", found: []),
        Hostile(search: "OR", found: ["SD-2"]),
        Hostile(search: "summary:printer", found: []),
        Hostile(search: "{summary description}:printer", found: []),
        Hostile(search: "^printer", found: []),
        Hostile(search: "-", found: []),
        Hostile(search: "(", found: ["SD-2"]),
        Hostile(search: ")", found: ["SD-2"]),
        Hostile(search: "%", found: ["SD-5"]),
        Hostile(search: "_", found: ["SD-5"]),
        Hostile(search: "\\", found: []),
        Hostile(search: "'; DROP TABLE request; --", found: []),
        Hostile(search: "プリンター OR", found: []),
    ]

    @Test("hostile search input is literal text and never fails", arguments: hostile)
    func hostileSearch(_ case: Hostile) async throws {
        let (store, _) = try await desk([
            ("Printer broken", "It makes noise"), ("Toner empty", "Order more (near paper tray)"),
            ("Quote", "He said: say \"hi\" to the printer"), ("Rating", "rated 5* by the team"),
            ("Discount", "100% off_now"),
        ])
        let found = try await store.consoleQueue(
            projectKey: "SD", filter: .open, agentId: nil, search: `case`.search)
        #expect(keys(found) == `case`.found)
        #expect(try await store.consoleQueue(projectKey: "SD", filter: .open, agentId: nil, search: nil).count == 5)
    }

    @Test("an overlong search is refused with a reason, quickly", arguments: StoreBackend.allCases)
    func overlongSearch(backend: StoreBackend) async throws {
        let (store, _) = try await desk(on: backend, [("Printer", "x")])
        let clock = ContinuousClock()
        let started = clock.now
        for search in [
            Array(repeating: "word", count: 10_000).joined(separator: " "), String(repeating: "x", count: 100_000),
        ] {
            let error = await #expect(throws: DeskError.self) {
                _ = try await store.consoleQueue(projectKey: "SD", filter: .open, agentId: nil, search: search)
            }
            #expect(error?.code == .invalid)
        }
        #expect(clock.now - started < .seconds(2))
        let sixteen = Array(repeating: "Printer", count: 16).joined(separator: " ")
        #expect(
            keys(try await store.consoleQueue(projectKey: "SD", filter: .open, agentId: nil, search: sixteen))
                == ["SD-1"])
    }

    @Test("requests and comments stored before the migration are found by search")
    func migrationIndexesExistingRows() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("postdesk-fts-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("desk.sqlite").path
        do {
            let queue = try DatabaseQueue(path: path)
            try DeskStore.migrator.migrate(queue, upTo: "v8-oauth-grant")
            try await queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO project (key, name, signup, nextRequestNumber, createdAt)
                        VALUES ('SD', 'Desk', 'public', 3, '2024-01-01 00:00:00.000');
                        INSERT INTO requestType (projectId, name, fields) VALUES (1, 'Help', '[]');
                        INSERT INTO request (projectId, key, requestTypeId, summary, description, status, reporter,
                                             createdAt, updatedAt)
                        VALUES (1, 'SD-1', 1, 'Old printer', 'Jammed again', 'Waiting for support', 'a@c.test',
                                '2024-01-01 00:00:00.000', '2024-01-01 00:00:00.000'),
                               (1, 'SD-2', 1, '古い端末', 'ログインできない', 'Waiting for support', 'b@c.test',
                                '2024-01-02 00:00:00.000', '2024-01-02 00:00:00.000');
                        INSERT INTO comment (requestId, author, body, isPublic, source, createdAt)
                        VALUES (2, 'b@c.test', 'Still broken after the firmware update', 1, 'email',
                                '2024-01-03 00:00:00.000');
                        """)
            }
            try queue.close()
        }
        let store = try DeskStore(path: path, secrets: SecretBox())
        func search(_ text: String) async throws -> [String] {
            keys(try await store.consoleQueue(projectKey: "SD", filter: .open, agentId: nil, search: text))
        }
        #expect(try await search("printer") == ["SD-1"])
        #expect(try await search("firmware") == ["SD-2"])
        #expect(try await search("ログイン") == ["SD-2"])
        #expect(try await store.queueVersion(projectKey: "SD") > 0)
        try await store.write { db in
            // FTS5's own check that the index matches the rows (https://www.sqlite.org/fts5.html#the_integrity_check_command).
            try db.execute(sql: "INSERT INTO requestText (requestText) VALUES ('integrity-check')")
            try db.execute(sql: "INSERT INTO commentText (commentText) VALUES ('integrity-check')")
        }
    }

    @Test(
        "assignment: to an active agent, away again; a disabled or unknown agent is refused",
        arguments: StoreBackend.allCases)
    func assignment(backend: StoreBackend) async throws {
        let (store, _) = try await desk(on: backend, [("Printer jammed", "a")])
        let alice = try await store.addAgent(email: "alice@desk.test", name: "Alice", role: .agent, passwordHash: nil)
        let bob = try await store.addAgent(email: "bob@desk.test", name: "Bob", role: .agent, passwordHash: nil)
        let before = try await store.consoleRequest(key: "SD-1").request.updatedAt
        try await Task.sleep(for: .milliseconds(5))
        try await store.assignRequest(key: "sd-1", agentId: alice.id)
        let assigned = try await store.consoleRequest(key: "SD-1")
        #expect(assigned.assignee == alice)
        #expect(assigned.request.assigneeId == alice.id)
        #expect(assigned.request.updatedAt > before)

        _ = try await store.disableAgent(email: "bob@desk.test")
        let disabled = await #expect(throws: DeskError.self) {
            try await store.assignRequest(key: "SD-1", agentId: bob.id)
        }
        #expect(disabled?.code == .invalid)
        let unknown = await #expect(throws: DeskError.self) { try await store.assignRequest(key: "SD-1", agentId: 999) }
        #expect(unknown?.code == .invalid)
        let noRequest = await #expect(throws: DeskError.self) {
            try await store.assignRequest(key: "SD-9", agentId: alice.id)
        }
        #expect(noRequest?.code == .notFound)
        #expect(try await store.consoleRequest(key: "SD-1").assignee == alice)

        try await store.assignRequest(key: "SD-1", agentId: nil)
        #expect(try await store.consoleRequest(key: "SD-1").assignee == nil)
        #expect(
            keys(try await store.consoleQueue(projectKey: "SD", filter: .unassigned, agentId: nil, search: nil))
                == ["SD-1"])
        // An agent comment keeps the assignment (it rewrites the whole request row).
        try await store.assignRequest(key: "SD-1", agentId: alice.id)
        _ = try await store.addAgentComment(
            requestKey: "SD-1", author: "alice@desk.test", body: "On it", isPublic: true)
        #expect(try await store.consoleRequest(key: "SD-1").request.assigneeId == alice.id)
    }

    @Test("a status change is stored with a new updatedAt", arguments: StoreBackend.allCases)
    func status(backend: StoreBackend) async throws {
        let (store, _) = try await desk(on: backend, [("Printer jammed", "a")])
        let before = try await store.consoleRequest(key: "SD-1").request
        try await Task.sleep(for: .milliseconds(5))
        try await store.setRequestStatus(key: "SD-1", status: .waitingForCustomer)
        let after = try await store.consoleRequest(key: "SD-1").request
        #expect(before.status == .waitingForSupport)
        #expect(after.status == .waitingForCustomer)
        #expect(after.updatedAt > before.updatedAt)
        try await store.setRequestStatus(key: "SD-1", status: .resolved)
        #expect(try await store.consoleQueue(projectKey: "SD", filter: .open, agentId: nil, search: nil).isEmpty)
        let error = await #expect(throws: DeskError.self) {
            try await store.setRequestStatus(key: "SD-2", status: .resolved)
        }
        #expect(error?.code == .notFound)
    }

    @Test(
        "the queue version changes with every new request, change and comment of the project, and only then",
        arguments: StoreBackend.allCases)
    func queueVersion(backend: StoreBackend) async throws {
        let (store, channel) = try await desk(on: backend, [])
        _ = try await store.createProject(key: "HR", name: "People", signup: .public)
        var seen: [Int64] = [try await store.queueVersion(projectKey: "SD")]
        func changed() async throws {
            let now = try await store.queueVersion(projectKey: "SD")
            #expect(!seen.contains(now), "version \(now) after \(seen)")
            seen.append(now)
        }
        _ = try await storeAndApply(store, channel: channel, intake(messageID: "a@x"))
        try await changed()
        _ = try await storeAndApply(store, channel: channel, intake(messageID: "b@x"))
        try await changed()
        let alice = try await store.addAgent(email: "alice@desk.test", name: "Alice", role: .agent, passwordHash: nil)
        try await store.assignRequest(key: "SD-1", agentId: alice.id)
        try await changed()
        try await store.setRequestStatus(key: "SD-1", status: .resolved)
        try await changed()
        _ = try await store.addAgentComment(
            requestKey: "SD-2", author: "alice@desk.test", body: "note", isPublic: false)
        try await changed()
        _ = try await storeAndApply(
            store, channel: channel,
            intake(subject: "Re: [SD-2] Printer jammed", messageID: "c@x", references: ["b@x"]))
        try await changed()
        // Reads and another project's requests leave it alone.
        _ = try await store.consoleQueue(projectKey: "SD", filter: .open, agentId: nil, search: "printer")
        _ = try await store.consoleRequest(key: "SD-1")
        #expect(try await store.queueVersion(projectKey: "SD") == seen.last)
        #expect(try await store.queueVersion(projectKey: "HR") == 0)
        let unknown = await #expect(throws: DeskError.self) { _ = try await store.queueVersion(projectKey: "XX") }
        #expect(unknown?.code == .notFound)
    }

    @Test(
        "the request view has the thread oldest first, with each attachment under its mail, and the file",
        arguments: StoreBackend.allCases)
    func requestView(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        let report = Array("%PDF-1.4 report".utf8)
        let photo = Array("\u{FF}\u{D8} photo bytes".utf8)
        _ = try await storeAndApply(
            store, channel: channel,
            intake(
                subject: "<script>alert(1)</script>", body: "See attached",
                attachments: [
                    IncomingAttachment(
                        filename: "report.pdf", contentType: "application/pdf", isInline: false, data: report)
                ]))
        _ = try await store.addAgentComment(
            requestKey: "SD-1", author: "agent@desk.test", body: "Please send a photo", isPublic: true)
        _ = try await storeAndApply(
            store, channel: channel,
            intake(
                subject: "Re: [SD-1]", body: "Here it is", messageID: "r@customer.test",
                references: ["m1@customer.test"],
                attachments: [
                    IncomingAttachment(filename: "photo.jpg", contentType: "image/jpeg", isInline: false, data: photo)
                ]))
        _ = try await store.addAgentComment(
            requestKey: "SD-1", author: "agent@desk.test", body: "internal: ask vendor", isPublic: false)

        let view = try await store.consoleRequest(key: "sd-1")
        #expect(view.projectKey == "SD")
        #expect(view.request.summary == "<script>alert(1)</script>")
        #expect(view.assignee == nil)
        #expect(view.attachments.map(\.filename) == ["report.pdf"])
        #expect(view.attachments.first?.commentId == nil)
        #expect(view.comments.map(\.body) == ["Please send a photo", "Here it is", "internal: ask vendor"])
        #expect(view.comments.map(\.isPublic) == [true, true, false])
        #expect(view.comments.map(\.source) == [.agent, .email, .agent])
        #expect(view.comments.map { $0.attachments.map(\.filename) } == [[], ["photo.jpg"], []])
        #expect(view.comments[1].attachments.first?.commentId == view.comments[1].id)
        #expect(view.comments.map(\.createdAt) == view.comments.map(\.createdAt).sorted())

        let pdf = try #require(view.attachments.first)
        let (found, url) = try await store.attachment(id: pdf.id)
        #expect(found == pdf)
        #expect(found.size == report.count)
        #expect(try Data(contentsOf: url) == Data(report))
        #expect(url.path.hasPrefix(store.attachmentDirectory.path))
        let jpeg = try #require(view.comments[1].attachments.first)
        #expect(try Data(contentsOf: try await store.attachment(id: jpeg.id).url) == Data(photo))
        let missing = await #expect(throws: DeskError.self) { _ = try await store.attachment(id: 12345) }
        #expect(missing?.code == .notFound)
        let noRequest = await #expect(throws: DeskError.self) { _ = try await store.consoleRequest(key: "SD-7") }
        #expect(noRequest?.code == .notFound)
    }
}

@Suite("The search index is kept after intake, not in it")
struct SearchIndexTests {
    /// SQLite's FTS5 tables only: PostgreSQL keeps its trigram indexes itself (indexSearchText answers 0 there).
    @Test("new rows are indexed by indexSearchText in batches, then it finds nothing to do; FTS5's own check holds")
    func deferred() async throws {
        let (store, channel) = try await makeDesk()
        for index in 0..<7 {
            _ = try await storeAndApply(
                store, channel: channel, intake(subject: "Toner \(index)", messageID: "t\(index)@customer.test"))
        }
        let unindexed = try await store.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM requestText WHERE requestText MATCH '\"Toner\"'") ?? -1
        }
        #expect(unindexed == 0, "intake does not index")
        #expect(try await store.indexSearchText(limit: 5) == 5)
        #expect(try await store.indexSearchText(limit: 5) == 2)
        #expect(try await store.indexSearchText(limit: 5) == 0)
        #expect(try await store.consoleQueue(projectKey: "SD", filter: .open, agentId: nil, search: "toner").count == 7)
        try await store.write { db in
            try db.execute(sql: "INSERT INTO requestText (requestText) VALUES ('integrity-check')")
            try db.execute(sql: "INSERT INTO commentText (commentText) VALUES ('integrity-check')")
        }
    }
}
