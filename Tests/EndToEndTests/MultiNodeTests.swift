import Foundation
import Logging
import MailClients
import MailServerHarness
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Three `postdesk serve` nodes on one real PostgreSQL, with their mailboxes on real Dovecot: every mailbox has
/// exactly one owner and each node its fair share; a SIGKILLed node's mailboxes have new owners within the lease
/// period and 5 s; a node paused past its lease (SIGSTOP) writes nothing when it resumes; every mail becomes one
/// request. The CI size is 24 mailboxes and 6 s leases; the 300 mailboxes are the same code with a larger N.
@Suite("Several nodes on one PostgreSQL", .serialized)
struct MultiNodeTests {
    /// Mailboxes of the lease test: a multiple of 6, so that three nodes' shares and two nodes' are even.
    static let mailboxes = size("MAILBOXES", 24)
    static let leaseSeconds = 6

    /// The desk: the database, the shared directories, and the nodes by name.
    struct Desk {
        let postgres: PostgresServer
        let database: String
        let directory: URL
        var nodes: [String: PostdeskProcess] = [:]

        func node(_ name: String) throws -> PostdeskProcess {
            guard let node = nodes[name] else { throw PostdeskTestError("no node \(name)") }
            return node
        }

        /// Rows of a query on the desk's database, each as its `|`-separated columns.
        func rows(_ sql: String) throws -> [[String]] {
            try postgres.psql(sql, database: database).split(separator: "\n").map {
                $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            }
        }

        /// Owners of unexpired leases, by node name, with how many each holds.
        func owners() throws -> [String: Int] {
            var owners: [String: Int] = [:]
            for row in try rows(
                "SELECT owner, count(*) FROM channelLease WHERE owner IS NOT NULL AND expiresAt > now() GROUP BY owner")
            where row.count == 2 {
                owners[row[0]] = Int(row[1])
            }
            return owners
        }

        func leaseRows() throws -> Int { Int(try rows("SELECT count(*) FROM channelLease").first?.first ?? "") ?? 0 }
        func requests() throws -> Int { Int(try rows("SELECT count(*) FROM request").first?.first ?? "") ?? 0 }
    }

    /// What `postdesk nodes --json` and `status --json` say, as far as these tests read them.
    struct NodeLine: Decodable {
        var name: String
        var live: Bool
        var mailboxes: [String]
    }

    struct Health: Decodable {
        struct Channel: Decodable {
            var address: String
            var owner: String?
            var leaseExpiresAt: String?
            var fencingToken: Int64?
        }
        var channels: [Channel]
    }

    /// Starts `names` on a new database; `extra` gives each node's further `serve` arguments by name.
    static func startDesk(
        nodes names: [String], extra: (String) -> [String] = { _ in [] }
    ) async throws -> Desk {
        let postgres = try await PostgresServer.shared()
        let database = try postgres.createDatabase(prefix: "nodes")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("postdesk-nodes-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var desk = Desk(postgres: postgres, database: database, directory: directory)
        // Every node seals and opens passwords with one key and keeps attachments in one directory.
        let key = directory.appendingPathComponent("secret.key").path
        for name in names {
            let node = try PostdeskProcess(
                extraArguments: [
                    "--database", postgres.url(database: database), "--node-name", name,
                    "--lease-seconds", "\(leaseSeconds)", "--secret-key-file", key,
                    "--attachments-dir", directory.appendingPathComponent("attachments").path,
                ] + extra(name))
            try await node.start()
            desk.nodes[name] = node
        }
        return desk
    }

    /// Makes `count` Dovecot users and links them with one `channel import` on `node` to a new project; their addresses.
    static func linkMailboxes(
        _ count: Int, project: String, named prefix: String, on node: PostdeskProcess, desk: Desk, servers: MailServers
    ) throws -> [String] {
        try node.createProject(project, name: "Several nodes", signup: "public")
        let tag = UUID().uuidString.prefix(6).lowercased()
        var csv = "project,address,protocol,host,port,tls,password-file,request-type\n"
        var addresses: [String] = []
        for index in 0..<count {
            let address = "\(prefix)\(index)-\(tag)@desk.test"
            try servers.addUser(address, password: "secret")
            let passwordFile = desk.directory.appendingPathComponent("\(prefix)\(index).password")
            try Data("secret\n".utf8).write(to: passwordFile)
            csv += "\(project),\(address),imap,127.0.0.1,\(servers.imapPort),none,\(passwordFile.path),Help\n"
            addresses.append(address)
        }
        let file = desk.directory.appendingPathComponent("\(prefix)-mailboxes.csv")
        try Data(csv.utf8).write(to: file)
        try node.ok(["channel", "import", file.path])
        return addresses
    }

    /// Waits until `condition` holds, checking every 200 ms; fails with `what` after `timeout`.
    static func waitUntil(
        _ what: String, timeout: Duration, _ condition: () throws -> Bool
    ) async throws -> Duration {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < timeout {
            if try condition() { return ContinuousClock.now - started }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw PostdeskTestError("\(what) did not happen within \(timeout)")
    }

    static func mail(to address: String, subject: String, from sender: String = "customer@example.test") -> [UInt8] {
        Array(
            """
            From: Customer <\(sender)>\r
            To: \(address)\r
            Subject: \(subject)\r
            Message-ID: <\(UUID().uuidString)@example.test>\r
            Date: Wed, 02 Dec 2026 06:00:00 +0000\r
            \r
            \(subject): the printer is jammed.\r

            """.utf8)
    }

    @Test("each mailbox has one owner, shares are fair, a killed node's move, a paused node writes nothing")
    func leasesAcrossNodes() async throws {
        let servers = try await MailServers.shared()
        var desk = try await Self.startDesk(nodes: ["a", "b", "c"])
        defer {
            for node in desk.nodes.values { Task { try? await node.stop(signal: SIGKILL) } }
        }
        let a = try desk.node("a")
        let addresses = try Self.linkMailboxes(
            Self.mailboxes, project: "MN", named: "node", on: a, desk: desk, servers: servers)

        // Fair shares: a third each on 3 live nodes, every mailbox owned exactly once (one row a channel).
        _ = try await Self.waitUntil("fair shares", timeout: .seconds(30)) {
            try desk.owners() == ["a": Self.mailboxes / 3, "b": Self.mailboxes / 3, "c": Self.mailboxes / 3]
        }
        #expect(try desk.leaseRows() == Self.mailboxes)
        // Any node answers for the whole desk: the nodes with their mailboxes, and every mailbox with its owner.
        let nodes = try a.json([NodeLine].self, ["nodes"])
        #expect(
            nodes.map(\.name) == ["a", "b", "c"]
                && nodes.allSatisfy { $0.live && $0.mailboxes.count == Self.mailboxes / 3 })
        let health = try desk.node("b").json(Health.self, ["status"])
        #expect(health.channels.count == Self.mailboxes)
        #expect(
            health.channels.allSatisfy { $0.owner != nil && $0.leaseExpiresAt != nil && ($0.fencingToken ?? 0) >= 1 })
        #expect(Set(health.channels.map(\.address)) == Set(addresses))

        // Every node takes its own mailboxes' mail: one request a mail.
        for (index, address) in addresses.enumerated() {
            try servers.deliver(Self.mail(to: address, subject: "first \(index)"), to: address)
        }
        _ = try await Self.waitUntil("a request for every mail", timeout: .seconds(60)) {
            try desk.requests() == Self.mailboxes
        }

        // SIGKILL c: its mailboxes have new owners within the lease period and 5 s.
        let c = try desk.node("c")
        try await c.stop(signal: SIGKILL)
        desk.nodes["c"] = nil
        let moved = try await Self.waitUntil("c's mailboxes moving", timeout: Duration.seconds(Self.leaseSeconds + 5)) {
            let owners = try desk.owners()
            return owners["c"] == nil && owners.values.reduce(0, +) == Self.mailboxes
        }
        #expect(moved <= Duration.seconds(Self.leaseSeconds + 5))
        #expect(try desk.owners() == ["a": Self.mailboxes / 2, "b": Self.mailboxes / 2])

        // SIGSTOP b past its lease: a takes everything. Mail that arrives meanwhile is a's; when b resumes it writes
        // nothing (its commits are fenced out) and gives up what it thought it held.
        let b = try desk.node("b")
        let bProcess = try #require(b.processIdentifier)
        kill(bProcess, SIGSTOP)
        _ = try await Self.waitUntil("a taking b's mailboxes", timeout: Duration.seconds(Self.leaseSeconds * 2 + 5)) {
            try desk.owners() == ["a": Self.mailboxes]
        }
        for (index, address) in addresses.enumerated() {
            try servers.deliver(Self.mail(to: address, subject: "second \(index)"), to: address)
        }
        kill(bProcess, SIGCONT)
        _ = try await Self.waitUntil("a request for every second mail", timeout: .seconds(60)) {
            try desk.requests() == 2 * Self.mailboxes
        }
        // b rejoins and gets its share again; nothing it did while resuming made a second request of any mail.
        _ = try await Self.waitUntil("b's share back", timeout: .seconds(30)) {
            try desk.owners() == ["a": Self.mailboxes / 2, "b": Self.mailboxes / 2]
        }
        try await Task.sleep(for: .seconds(2))
        #expect(try desk.requests() == 2 * Self.mailboxes)
        // Every mail had its own subject: a mail taken twice would be a summary twice.
        let duplicates = try desk.rows("SELECT count(*) - count(DISTINCT summary) FROM request")
        #expect(duplicates.first?.first == "0")
        // No mail failed, so each was attempted once: the nodes' sweeps left the mail another node was attempting alone.
        #expect(try desk.rows("SELECT count(*) FROM inbound WHERE attempts <> 1").first?.first == "0")
        for node in desk.nodes.values { try await node.stop() }
        desk.nodes = [:]
    }

    /// The sizes of the runs: `POSTDESK_MULTINODE_MAILBOXES` (the lease test), `…_KILL_MAILBOXES`, `…_MAILS`, `…_KILLS`
    /// (the kill run); scripts/multinode-harness.sh runs the 300 mailboxes, 1,000 mails and 10 kills. The
    /// suite's sizes by default.
    static func size(_ name: String, _ fallback: Int) -> Int {
        ProcessInfo.processInfo.environment["POSTDESK_MULTINODE_\(name)"].flatMap(Int.init) ?? fallback
    }

    @Test("nodes SIGKILLed one after another during ingest, each restarted: every mail one request, none lost")
    func killsDuringIngest() async throws {
        let servers = try await MailServers.shared()
        let mailboxCount = Self.size("KILL_MAILBOXES", 12)
        let mails = Self.size("MAILS", 120)
        let kills = Self.size("KILLS", 4)
        var desk = try await Self.startDesk(nodes: ["a", "b", "c"])
        defer {
            for node in desk.nodes.values { Task { try? await node.stop(signal: SIGKILL) } }
        }
        let a = try desk.node("a")
        let addresses = try Self.linkMailboxes(
            mailboxCount, project: "MK", named: "kill", on: a, desk: desk, servers: servers)

        // Mail arrives in even steps; between steps a node is SIGKILLed, and started again (a new incarnation)
        // one step later, so that its mailboxes move while mail keeps coming.
        let names = ["a", "b", "c"]
        let step = max(1, mails / (kills + 1))
        var killed: String?
        var killsDone = 0
        for index in 0..<mails {
            let address = addresses[index % addresses.count]
            try servers.deliver(Self.mail(to: address, subject: "kill run \(index)"), to: address)
            guard index % step == step - 1 else { continue }
            if let name = killed {
                try await desk.node(name).start()
                killed = nil
            }
            if killsDone < kills {
                let name = names[killsDone % names.count]
                try await desk.node(name).stop(signal: SIGKILL)
                killed = name
                killsDone += 1
            }
            try await Task.sleep(for: .milliseconds(300))
        }
        if let name = killed { try await desk.node(name).start() }
        #expect(killsDone == kills)
        _ = try await Self.waitUntil("a request for every mail", timeout: .seconds(120)) {
            try desk.requests() >= mails
        }
        try await Task.sleep(for: .seconds(2))
        #expect(try desk.requests() == mails, "no mail taken twice")
        let distinct = try desk.rows("SELECT count(DISTINCT summary) FROM request WHERE summary LIKE 'kill run %'")
        #expect(distinct.first?.first == "\(mails)", "no mail lost")
        for node in desk.nodes.values { try await node.stop() }
        desk.nodes = [:]
    }

    @Test("every node's LMTP listener takes push mail; one mail handed to all three at once is one request")
    func pushToEveryNode() async throws {
        // OpenSMTPD routes each node's domain to that node's listener, as an MX with one LMTP hop per node would, and
        // the one push channel has an address in each domain.
        let names = ["a", "b", "c"]
        var ports: [String: Int] = [:]
        for name in names { ports[name] = try freeLoopbackPort() }
        let addresses = names.map { "help@push-\($0).test" }
        let routes = names.map { LMTPRoute(domain: "push-\($0).test", destination: "127.0.0.1:\(ports[$0] ?? 0)") }
        let servers = try await MailServers.start(lmtpRoutes: routes)
        defer { servers.stop() }
        var desk = try await Self.startDesk(nodes: names) { ["--lmtp-listen", "127.0.0.1:\(ports[$0] ?? 0)"] }
        defer {
            for node in desk.nodes.values { Task { try? await node.stop(signal: SIGKILL) } }
        }
        let a = try desk.node("a")
        try a.createProject("MP", name: "Push", signup: "public")
        try a.ok(
            ["channel", "add", "MP", "--address", addresses[0], "--protocol", "lmtp", "--request-type", "Help"]
                + addresses.dropFirst().flatMap { ["--extra-address", $0] })
        let endpoint = MailServerEndpoint(host: "127.0.0.1", port: servers.smtpPort, tls: .none)
        func send(_ raw: [UInt8], to recipients: [String]) async throws {
            _ = try await SMTPClient.send(
                raw, from: "customer@example.test", to: recipients, via: endpoint, credentials: nil,
                heloName: "customer.test", logger: Logger(label: "e2e"))
        }

        // Each node takes the mail of its own domain (a node whose listener failed would leave its share queued in
        // OpenSMTPD): one request a mail.
        let perNode = 8
        for index in 0..<perNode {
            for address in addresses {
                // A sender of its own per round: the per-sender rate limit (20 an hour) would hold the rest.
                let sender = "customer\(index)@example.test"
                try await send(Self.mail(to: address, subject: "push \(address) \(index)", from: sender), to: [address])
            }
        }
        let pushed = perNode * addresses.count
        do {
            _ = try await Self.waitUntil("a request for every pushed mail", timeout: .seconds(60)) {
                try desk.requests() >= pushed
            }
        } catch {
            let logs = try names.map { name in
                let lines = try desk.node(name).serverLog.split(separator: "\n").filter { !$0.contains(" debug ") }
                return "\(name): " + lines.suffix(30).joined(separator: "\n")
            }.joined(separator: "\n")
            let smtpd = (try? String(contentsOfFile: servers.smtpdLog, encoding: .utf8)) ?? ""
            throw PostdeskTestError(
                "\(error); \(try desk.requests()) requests; smtpd log: \(smtpd.suffix(4000))\n\(logs)")
        }
        #expect(try desk.rows("SELECT count(DISTINCT summary) FROM request").first?.first == "\(pushed)")
        // Push channels have no mailbox to run, so no lease, and no node's fence stands in the way.
        #expect(try desk.leaseRows() == 0)

        // One mail to all three addresses: OpenSMTPD hands a copy to each node at about the same moment. The first
        // node's copy is the request; the others' are logged duplicates of it.
        try await send(Self.mail(to: addresses.joined(separator: ", "), subject: "to every node"), to: addresses)
        _ = try await Self.waitUntil("the copies from all three nodes", timeout: .seconds(30)) {
            try desk.rows("SELECT count(*) FROM mailboxEvent WHERE outcome = 'duplicate'").first?.first == "2"
        }
        try await Task.sleep(for: .seconds(1))
        #expect(try desk.requests() == pushed + 1)
        #expect(try desk.rows("SELECT count(*) FROM inbound").first?.first == "\(pushed + 1)")
        for node in desk.nodes.values { try await node.stop() }
        desk.nodes = [:]
    }
}
