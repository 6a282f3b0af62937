import Foundation
import Logging
import MailServerHarness
import ServiceDesk
import Testing

@testable import EmailChannel

/// The mailbox runtime against a real Dovecot: watermark, \Seen, IDLE, UIDVALIDITY fallback.
@Suite("Mailbox actor on real Dovecot", .timeLimit(.minutes(2)))
struct MailboxIntegrationTests {
    struct Rig {
        var servers: MailServers
        var store: DeskStore
        var router: RequestRouter
        var address: String
    }

    static func rig(signup: SignupPolicy = .public) async throws -> Rig {
        let servers = try await MailServers.shared()
        let address = "box-\(UUID().uuidString.prefix(8).lowercased())@desk.test"
        try servers.addUser(address, password: "secret")
        let store = try DeskStore.inMemory()
        try await makeServiceDeskProject(in: store, signup: signup)
        let router = RequestRouter(store: store, logger: Logger(label: "t"))
        return Rig(servers: servers, store: store, router: router, address: address)
    }

    static func draft(_ rig: Rig, protocol mailProtocol: MailboxProtocol = .imap) -> ChannelDraft {
        ChannelDraft(
            projectKey: "SD", address: rig.address, protocol: mailProtocol, host: "127.0.0.1",
            port: mailProtocol == .imap ? rig.servers.imapPort : rig.servers.pop3Port, tls: .none, caFile: nil,
            username: rig.address, password: "secret", requestTypeName: "Get help")
    }

    static func message(_ subject: String, id: String) -> [UInt8] {
        Array(
            "From: alice@customer.test\r\nSubject: \(subject)\r\nMessage-ID: <\(id)>\r\n\r\nBody of \(subject)\r\n".utf8
        )
    }

    /// Runs the mailbox and the router until `done` holds or 15 s pass.
    static func run(
        _ rig: Rig, channel: Channel, pollInterval: Duration = .seconds(1),
        largestMessage: Int = MailboxActor.defaultLargestMessage,
        until done: @escaping @Sendable () async throws -> Bool
    ) async throws {
        let runnable = RunnableChannel(channel: channel, password: "secret", projectKey: "SD")
        let mailbox = MailboxActor(
            channel: runnable, store: rig.store, router: rig.router, statusBoard: ChannelStatusBoard(),
            pollInterval: pollInterval, largestMessage: largestMessage, logger: Logger(label: "t"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await mailbox.run() }
            group.addTask { try await rig.router.run() }
            let deadline = ContinuousClock.now + .seconds(15)
            while try await !done() {
                if ContinuousClock.now > deadline {
                    group.cancelAll()
                    throw PostdeskIntegrationError("condition not met within 15 s")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            group.cancelAll()
        }
    }

    @Test("linking takes the watermark: older mail is left alone, new mail is stored, then marked \\Seen")
    func watermarkAndSeen() async throws {
        let rig = try await Self.rig()
        try rig.servers.deliver(Self.message("before", id: "before@x"), to: rig.address)
        let channel = try await MailboxLinker(store: rig.store, logger: Logger(label: "t")).link(Self.draft(rig))
            .channel
        #expect(channel.uidNextAtLink == 2)
        try rig.servers.deliver(Self.message("after", id: "after@x"), to: rig.address)
        let store = rig.store
        try await Self.run(rig, channel: channel) { try await store.queue(projectKey: "SD").count == 1 }
        #expect(try await store.queue(projectKey: "SD").map(\.summary) == ["after"])
        let inbox = try rig.servers.inbox(of: rig.address)
        #expect(inbox.first { $0.raw.contains("before") }?.flags.contains("\\Seen") == false)
        #expect(inbox.first { $0.raw.contains("Subject: after") }?.flags.contains("\\Seen") == true)
    }

    @Test("IDLE picks up mail within seconds of delivery")
    func idleWakesUp() async throws {
        let rig = try await Self.rig()
        let channel = try await MailboxLinker(store: rig.store, logger: Logger(label: "t")).link(Self.draft(rig))
            .channel
        let store = rig.store
        let servers = rig.servers
        let address = rig.address
        let started = ContinuousClock.now
        // A one-hour poll interval: only IDLE can deliver this in time.
        try await Self.run(rig, channel: channel, pollInterval: .seconds(3600)) {
            if ContinuousClock.now - started > .seconds(2), try servers.inbox(of: address).isEmpty {
                try servers.deliver(Self.message("while idle", id: "idle@x"), to: address)
            }
            return try await store.queue(projectKey: "SD").count == 1
        }
        #expect(try await store.queue(projectKey: "SD").first?.summary == "while idle")
    }

    @Test("after a UIDVALIDITY change, mail is chosen by INTERNALDATE after the link time")
    func uidValidityFallback() async throws {
        let rig = try await Self.rig()
        var channel = try await MailboxLinker(store: rig.store, logger: Logger(label: "t")).link(Self.draft(rig))
            .channel
        // Pretend the mailbox was recreated since linking: the stored UIDVALIDITY no longer matches.
        channel.uidValidity = (channel.uidValidity ?? 0) + 1
        channel.uidNextAtLink = 1_000_000
        try rig.servers.deliver(Self.message("after recreate", id: "recreate@x"), to: rig.address)
        let store = rig.store
        try await Self.run(rig, channel: channel) { try await store.queue(projectKey: "SD").count == 1 }
        #expect(try await store.queue(projectKey: "SD").first?.summary == "after recreate")
    }

    @Test(
        "Dovecot's INBOX given a new UIDVALIDITY (doveadm): the next session takes the mail since linking, saves the new watermark, and later sessions count by UID"
    )
    func uidValidityChangedOnServer() async throws {
        var rig = try await Self.rig()
        let linked = try await MailboxLinker(store: rig.store, logger: Logger(label: "t")).link(Self.draft(rig)).channel
        let store = rig.store
        try rig.servers.deliver(Self.message("before the change", id: "before@x"), to: rig.address)
        try await Self.run(rig, channel: linked) { try await store.queue(projectKey: "SD").count == 1 }

        let validity = (linked.uidValidity ?? 0) + 1
        _ = try rig.servers.doveadm(["mailbox", "update", "-u", rig.address, "--uid-validity", "\(validity)", "INBOX"])
        try rig.servers.deliver(Self.message("after the change", id: "after@x"), to: rig.address)
        let status = try rig.servers.doveadm([
            "-f", "flow", "mailbox", "status", "-u", rig.address, "uidvalidity uidnext", "INBOX",
        ])
        #expect(status.contains("uidvalidity=\(validity)"), "\(status)")
        let uidNext = try #require(
            status.split(separator: " ").first { $0.hasPrefix("uidnext=") }.flatMap {
                Int64($0.dropFirst(8).trimmingCharacters(in: .whitespacesAndNewlines))
            })
        // Each run is a restart: a new session and a new router (a router runs once).
        rig.router = RequestRouter(store: store, logger: Logger(label: "t"))
        try await Self.run(rig, channel: linked) { try await store.queue(projectKey: "SD").count == 2 }
        let moved = try #require(try await store.channels().first?.channel)
        #expect(moved.uidValidity == validity && moved.uidNextAtLink == uidNext)

        // A session started from the stored channel counts by UID: mail read elsewhere is logged as skipped again.
        try rig.servers.deliver(Self.message("read on the phone", id: "phone@x"), to: rig.address)
        _ = try rig.servers.doveadm(["flags", "add", "-u", rig.address, "\\Seen", "mailbox", "INBOX", "ALL"])
        rig.router = RequestRouter(store: store, logger: Logger(label: "t"))
        try await Self.run(rig, channel: moved) {
            try await store.processingLog(channelAddress: nil, since: nil, limit: 10).contains {
                $0.outcome == .skipped
            }
        }
        let log = try await store.processingLog(channelAddress: nil, since: nil, limit: 10)
        #expect(log.filter { $0.outcome == .skipped }.map(\.subject) == ["read on the phone"])
        #expect(
            try await store.queue(projectKey: "SD").map(\.summary).sorted() == [
                "after the change", "before the change",
            ])
    }

    @Test("POP3: mail present at link is left alone; new mail is stored, then deleted after QUIT")
    func pop3() async throws {
        let rig = try await Self.rig()
        try rig.servers.deliver(Self.message("present at link", id: "present@x"), to: rig.address)
        let linked = try await MailboxLinker(store: rig.store, logger: Logger(label: "t")).link(
            Self.draft(rig, protocol: .pop3))
        #expect(linked.channel.pop3LinkedUIDLs?.count == 1)
        #expect(linked.warnings.first?.contains("POP3 deletes") == true)
        try rig.servers.deliver(Self.message("new over pop3", id: "pop-new@x"), to: rig.address)
        let store = rig.store
        let servers = rig.servers
        let address = rig.address
        try await Self.run(rig, channel: linked.channel) {
            try await store.queue(projectKey: "SD").count == 1 && servers.inbox(of: address).count == 1
        }
        #expect(try await store.queue(projectKey: "SD").map(\.summary) == ["new over pop3"])
        #expect(try servers.inbox(of: address).first?.raw.contains("present at link") == true)
    }

    @Test("mail marked read before postdesk fetched it is skipped and logged once; a second copy is a duplicate")
    func skippedAndDuplicate() async throws {
        let rig = try await Self.rig()
        let channel = try await MailboxLinker(store: rig.store, logger: Logger(label: "t")).link(Self.draft(rig))
            .channel
        try rig.servers.deliver(Self.message("read by someone", id: "read@x"), to: rig.address)
        _ = try rig.servers.doveadm(["flags", "add", "-u", rig.address, "\\Seen", "mailbox", "INBOX", "ALL"])
        try rig.servers.deliver(Self.message("first copy", id: "twice@x"), to: rig.address)
        try rig.servers.deliver(Self.message("first copy", id: "twice@x"), to: rig.address)
        let store = rig.store
        try await Self.run(rig, channel: channel) {
            let outcomes = try await store.processingLog(channelAddress: nil, since: nil, limit: 10).map(\.outcome)
            return Set(outcomes) == [.skipped, .created, .duplicate]
        }
        let log = try await store.processingLog(channelAddress: nil, since: nil, limit: 10)
        #expect(Set(log.map(\.outcome)) == [.skipped, .created, .duplicate])
        #expect(log.first { $0.outcome == .skipped }?.subject == "read by someone")
        #expect(log.first { $0.outcome == .duplicate }?.requestKey == "SD-1")
        #expect(try await store.queue(projectKey: "SD").count == 1)
    }

    @Test("a message larger than postdesk fetches is left unread in the mailbox and logged; later mail still flows")
    func tooLarge() async throws {
        let rig = try await Self.rig()
        let channel = try await MailboxLinker(store: rig.store, logger: Logger(label: "t")).link(Self.draft(rig))
            .channel
        let big =
            Array("From: alice@customer.test\r\nSubject: huge\r\nMessage-ID: <huge@x>\r\n\r\n".utf8)
            + Array(repeating: UInt8(ascii: "x"), count: 4096) + [13, 10]
        try rig.servers.deliver(big, to: rig.address)
        try rig.servers.deliver(Self.message("small", id: "small@x"), to: rig.address)
        let store = rig.store
        try await Self.run(rig, channel: channel, largestMessage: 2048) {
            let outcomes = try await store.processingLog(channelAddress: nil, since: nil, limit: 10).map(\.outcome)
            return outcomes.contains(.skipped) && outcomes.contains(.created)
        }
        let log = try await store.processingLog(channelAddress: nil, since: nil, limit: 10)
        #expect(log.first { $0.outcome == .skipped }?.detail?.contains("left in the mailbox untouched") == true)
        #expect(try await store.queue(projectKey: "SD").map(\.summary) == ["small"])
        let inbox = try rig.servers.inbox(of: rig.address)
        #expect(inbox.first { $0.raw.contains("Subject: huge") }?.flags.contains("\\Seen") == false)
    }

    @Test(
        "a backlog drains in pipelined batches through one shared fetch slot, and an idle mailbox holds no slot: each mail is one request, all \\Seen"
    )
    func sharedFetchSlot() async throws {
        let rig = try await Self.rig()
        let other = "box-\(UUID().uuidString.prefix(8).lowercased())@desk.test"
        try rig.servers.addUser(other, password: "secret")
        let linker = MailboxLinker(store: rig.store, logger: Logger(label: "t"))
        let first = try await linker.link(Self.draft(rig)).channel
        var otherDraft = Self.draft(rig)
        otherDraft.address = other
        otherDraft.username = other
        let second = try await linker.link(otherDraft).channel
        // Three fetch batches of twenty; each from its own sender (the rate breaker holds more than 20 an hour).
        for n in 1...45 {
            try rig.servers.deliver(
                Array(
                    "From: user\(n)@customer.test\r\nSubject: backlog \(n)\r\nMessage-ID: <backlog\(n)@x>\r\n\r\nBody\r\n"
                        .utf8), to: rig.address)
        }
        let limiter = FetchLimiter(limit: 1)
        let board = ChannelStatusBoard()
        let mailboxes = [first, second].map { channel in
            MailboxActor(
                channel: RunnableChannel(channel: channel, password: "secret", projectKey: "SD"), store: rig.store,
                router: rig.router, statusBoard: board, pollInterval: .seconds(3600), fetchLimiter: limiter,
                fetchBatchSize: 20, logger: Logger(label: "t"))
        }
        let store = rig.store
        let servers = rig.servers
        let address = rig.address
        try await withThrowingTaskGroup(of: Void.self) { group in
            for mailbox in mailboxes { group.addTask { await mailbox.run() } }
            group.addTask { try await rig.router.run() }
            func waitFor(_ what: String, _ condition: @Sendable () async throws -> Bool) async throws {
                let deadline = ContinuousClock.now + .seconds(30)
                while try await !condition() {
                    // Throwing out of the group cancels the mailboxes and the router.
                    if ContinuousClock.now > deadline { throw PostdeskIntegrationError("\(what) not within 30 s") }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            try await waitFor("the backlog and two idle mailboxes") {
                let idle = await board.all().filter { $0.state == .idle }.count
                return try await store.queue(projectKey: "SD").count == 45 && idle == 2
            }
            #expect(limiter.inUse == 0)
            // Both mailboxes wait in IDLE: neither holds the only slot, so either can fetch new mail at once.
            try servers.deliver(Self.message("to the other", id: "other@x"), to: other)
            try await waitFor("the other mailbox's mail") { try await store.queue(projectKey: "SD").count == 46 }
            try servers.deliver(Self.message("to the first again", id: "again@x"), to: address)
            try await waitFor("the first mailbox's new mail") { try await store.queue(projectKey: "SD").count == 47 }
            group.cancelAll()
        }
        let queue = try await store.queue(projectKey: "SD")
        #expect(Set(queue.map(\.summary)).count == 47)
        #expect(
            try await store.processingLog(channelAddress: nil, since: nil, limit: 100).allSatisfy {
                $0.outcome == .created
            })
        #expect(try servers.inbox(of: address).allSatisfy { $0.flags.contains("\\Seen") })
        #expect(try servers.inbox(of: other).allSatisfy { $0.flags.contains("\\Seen") })
    }

    @Test("linking with wrong credentials fails with the server's words and stores nothing")
    func badPassword() async throws {
        let rig = try await Self.rig()
        var draft = Self.draft(rig)
        draft.password = "wrong"
        do {
            _ = try await MailboxLinker(store: rig.store, logger: Logger(label: "t")).link(draft)
            Issue.record("linking with a wrong password succeeded")
        } catch {
            #expect("\(error)".lowercased().contains("auth"))
        }
        #expect(try await rig.store.channels().isEmpty)
    }
}

struct PostdeskIntegrationError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
