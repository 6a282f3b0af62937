import Foundation
import MailMessage
import MailServerHarness
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// One crash run (issue 8 §6, DESIGN.md §2 "nothing lost, nothing twice"): customer mail is delivered
/// into an IMAP and a POP3 mailbox on real Dovecot while an agent comments on the requests it creates
/// (their notifications go through OpenSMTPD into the customers' Dovecot mailboxes), and the real
/// `postdesk` server is killed with SIGKILL at moments drawn from a seed. Afterwards the server is
/// restarted once more and, once it is quiet, every mail, request, comment and notification is counted.
final class CrashHarness: Sendable {
    let plan: CrashPlan
    let servers: MailServers
    let desk: PostdeskProcess
    let ledger = CrashLedger()
    let project = "CR"

    var imapAddress: String { "crash-imap-\(plan.tag)@desk.test" }
    var pop3Address: String { "crash-pop-\(plan.tag)@desk.test" }
    var agent: String { "agent-\(plan.tag)@desk.test" }
    func customer(_ number: Int) -> String { "crash-\(plan.tag)-c\(number)@customer.test" }
    func address(of mailbox: CrashPlan.Mailbox) -> String { mailbox == .imap ? imapAddress : pop3Address }

    init(plan: CrashPlan, servers: MailServers) throws {
        self.plan = plan
        self.servers = servers
        desk = try PostdeskProcess()
    }

    /// Runs the whole plan and reports what it found; throws only when the run cannot be set up.
    func run() async throws -> CrashReport {
        let clock = ContinuousClock()
        let startedAt = clock.now
        var report = CrashReport(seed: plan.seed)
        report.dataDirectory = desk.dataDirectory.path
        try await setUp()

        let killStart = clock.now
        let deliverer = Task { try await self.deliverAll() }
        let agentTask = Task { await self.agentLoop() }
        var killerError: (any Error)?
        do {
            try await killAll()
        } catch {
            killerError = error
        }
        // The deliverer and the agent must end even when the killer failed.
        await ledger.finishKills()
        let deliverResult = await deliverer.result
        await agentTask.value
        report.killPhase = clock.now - killStart
        if let killerError { throw killerError }
        try deliverResult.get()

        // Restart once more, cleanly, then settle comments whose fate a kill left open.
        try await desk.stop()
        keepLog(of: "the clean stop after the kills")
        try await desk.start()
        await ledger.started()
        await resolveUncertainComments(final: true)
        let quiet = await waitUntilQuiet()
        if !quiet {
            report.harnessProblems.append("the server did not become quiet within \(quietTimeout); counted anyway")
        }
        try await check(into: &report)
        try await desk.stop()
        report.duration = clock.now - startedAt
        return report
    }

    // MARK: Set-up

    private func setUp() async throws {
        try await offPool { [self] in
            for user in [imapAddress, pop3Address] + (0..<plan.customers).map(customer) {
                try servers.addUser(user, password: "secret")
            }
        }
        try await desk.start()
        await ledger.started()
        let passwordFile = desk.dataDirectory.appendingPathComponent("pw.txt")
        try "secret\n".write(to: passwordFile, atomically: true, encoding: .utf8)
        try await offPool { [self] in
            try desk.createProject(project, name: "Crash", signup: "public")
            try desk.ok([
                "smtp", "set", "--host", "127.0.0.1", "--port", "\(servers.smtpPort)", "--tls", "none", "--from",
                imapAddress,
            ])
            for (address, mailProtocol, port) in [
                (imapAddress, "imap", servers.imapPort), (pop3Address, "pop3", servers.pop3Port),
            ] {
                try desk.ok([
                    "channel", "add", project, "--address", address, "--protocol", mailProtocol, "--host",
                    "127.0.0.1", "--port", "\(port)", "--tls", "none", "--password-file", passwordFile.path,
                    "--request-type", "Help",
                ])
            }
        }
    }

    // MARK: The three actors of a run

    /// Delivers every planned mail into its Dovecot mailbox, pausing as planned; the server's state
    /// does not matter to it, so mail also arrives while the server is down.
    private func deliverAll() async throws {
        // On a fixed timetable from the start, so that a slow `doveadm save` does not stretch the run.
        let clock = ContinuousClock()
        var due = clock.now
        var start = 0
        while start < plan.mails.count {
            let burst = plan.mails[start...].prefix { $0.burst == plan.mails[start].burst }
            due = due + plan.mails[start].pause
            try await Task.sleep(until: due, clock: clock)
            try await withThrowingTaskGroup(of: Int.self) { group in
                for mail in burst {
                    let raw = Array(message(for: mail).utf8)
                    let to = address(of: mail.mailbox)
                    group.addTask { [servers] in
                        try await offPool { try servers.deliver(raw, to: to) }
                        return mail.index
                    }
                }
                for try await index in group { await ledger.recordDelivery(index) }
            }
            await ledger.finishBurstDelivery()
            start += burst.count
        }
        await ledger.finishDeliveries()
    }

    func message(for mail: CrashPlan.Mail) -> String {
        [
            "From: Customer \(mail.customer) <\(customer(mail.customer))>",
            "To: \(address(of: mail.mailbox))",
            "Subject: \(plan.subject(of: mail))",
            "Message-ID: <\(mail.token)@customer.test>",
            "Date: Sat, 21 Nov 2026 10:00:00 +0000",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "",
            "Mail \(mail.token) from customer \(mail.customer) to the \(mail.mailbox.rawValue) mailbox.",
            "",
        ].joined(separator: "\r\n")
    }

    /// Kills the server as planned: each kill waits for its moment, strikes with SIGKILL, leaves the
    /// server down for a while, and starts it again.
    private func killAll() async throws {
        let clock = ContinuousClock()
        for (number, kill) in plan.kills.enumerated() {
            let upSince = clock.now
            // Kills keep pace with the mail: kill k of n waits until k/n of it is delivered, so that they
            // spread over the whole intake and the last one comes after the last delivery.
            let share = (number + 1) * plan.mails.count / max(plan.kills.count, 1)
            await waitFor(.seconds(600)) {
                let delivered = await self.ledger.delivered.count
                let done = await self.ledger.deliveriesDone
                return delivered >= share || done
            }
            switch kill.moment {
            case .anytime:
                break
            case .duringIntake:
                // Strikes soon after the server stored a mail it had not stored before: it may still be
                // storing the rest of the batch, flagging or deleting it, or processing it.
                let before = await newestInbound() ?? 0
                await waitFor(.seconds(8), every: .milliseconds(5)) {
                    if await self.ledger.deliveriesDone { return true }
                    return (await self.newestInbound() ?? 0) > before
                }
            case .duringNotifications:
                let before = await ledger.burstsStarted
                await waitFor(.seconds(6)) { await self.ledger.burstsStarted > before }
            }
            try await Task.sleep(for: kill.delay)
            try await desk.stop(signal: SIGKILL)
            await ledger.killed()
            keepLog(of: "kill \(number + 1) (\(kill.moment.rawValue))")
            let uptime = clock.now - upSince
            let delivered = await ledger.delivered.count
            let inFlight = (try? await offPool { [self] in unfinishedWork() }) ?? nil
            await ledger.recordKill(inFlight)
            var line =
                "crash harness: kill \(number + 1)/\(plan.kills.count) \(kill.moment.rawValue) after "
                + "\(CrashReport.seconds(uptime)) up; \(delivered)/\(plan.mails.count) mails delivered"
            if let inFlight {
                line += "; left: \(inFlight.inbound) unprocessed, \(inFlight.storedNotFlagged) stored but not flagged"
                line += ", \(inFlight.outbox) notifications unsent"
            }
            print(line)
            try await Task.sleep(for: kill.downtime)
            try await desk.start()
            await ledger.started()
        }
    }

    /// The agent: watches the queue and comments, in bursts, on the requests the plan says, once
    /// each. A comment call cut by a kill is settled by looking at the request once the server that
    /// got it is gone, and made again only when it was not committed.
    private func agentLoop() async {
        var random = SplitMix64(seed: plan.agentSeed)
        var seen = Set<Int>()
        var pending: [(index: Int, key: String)] = []
        let clock = ContinuousClock()
        var lastNewRequest = clock.now
        var settledSince: ContinuousClock.Instant?
        while true {
            if await ledger.killsDone, await ledger.deliveriesDone {
                // The kills are over: stop once nothing new has shown up for a while.
                let unresolved = await ledger.resolvable()
                let idle = pending.isEmpty && unresolved.isEmpty
                if idle, clock.now - lastNewRequest > .seconds(3) { break }
                let since = settledSince ?? clock.now
                settledSince = since
                if clock.now - since > quietTimeout { break }
            }
            guard await ledger.serverUp else {
                try? await Task.sleep(for: .milliseconds(50))
                continue
            }
            pending.insert(contentsOf: await resolveUncertainComments(final: false), at: 0)
            if let rows = try? await offPool({ [desk, project] in try desk.json([QueueRow].self, ["queue", project]) })
            {
                for row in rows.reversed() {
                    guard let index = plan.mailIndex(inSummary: row.summary), !seen.contains(index) else { continue }
                    seen.insert(index)
                    lastNewRequest = clock.now
                    if plan.mails[index].commented { pending.append((index, row.key)) }
                }
            }
            let burst = Int.random(in: 1...8, using: &random)
            var made = 0
            if !pending.isEmpty { await ledger.startBurst() }
            while made < burst, !pending.isEmpty {
                let next = pending.removeFirst()
                await comment(on: next.key, index: next.index)
                made += 1
            }
            if made > 0 { await ledger.finishBurst() }
            try? await Task.sleep(for: random.milliseconds(100, 800))
        }
    }

    private func commentBody(_ index: Int, key: String) -> String {
        "Agent note \(plan.mails[index].commentToken) on \(key)."
    }

    private func comment(on key: String, index: Int) async {
        let arguments = [
            "request", "comment", key, "--author", agent, "--body", commentBody(index, key: key), "--json",
        ]
        let result = try? await offPool { [desk] in try desk.run(arguments) }
        if let result, result.status == 0,
            let answer = try? JSONDecoder().decode(CommentAnswer.self, from: Data(result.out.utf8))
        {
            await ledger.commented(index, requestKey: key, messageID: answer.notificationMessageId)
        } else {
            await ledger.commentFailed(index, requestKey: key)
        }
    }

    /// Settles comment calls that failed, now that the server that got them has been replaced:
    /// found on the request means committed; otherwise it is returned to be made again (or, on the
    /// final pass, made again at once).
    @discardableResult
    private func resolveUncertainComments(final: Bool) async -> [(index: Int, key: String)] {
        var again: [(index: Int, key: String)] = []
        for entry in await ledger.resolvable() {
            guard
                let request = try? await offPool({ [desk] in
                    try desk.json(RequestJSON.self, ["request", "show", entry.requestKey])
                })
            else { continue }
            let token = plan.mails[entry.index].commentToken
            if request.comments.contains(where: { $0.body.contains(token) }) {
                await ledger.foundCommitted(entry.index)
            } else {
                await ledger.notCommitted(entry.index)
                again.append((entry.index, entry.requestKey))
            }
        }
        if final {
            for entry in again { await comment(on: entry.key, index: entry.index) }
            return []
        }
        return again
    }

    // MARK: After the run

    var quietTimeout: Duration { .seconds(30 + plan.mails.count / 5) }

    /// Waits until both mailboxes are drained (IMAP all \Seen, POP3 empty), every delivered mail has
    /// its request, every comment its notification, and nothing has changed for three seconds.
    private func waitUntilQuiet() async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + quietTimeout
        var last: [Int] = []
        var stableSince = clock.now
        let imapMails = plan.mails.filter { $0.mailbox == .imap }.count
        while clock.now < deadline {
            let snapshot = try? await offPool { [self] () -> (done: Bool, signature: [Int]) in
                let imap = try servers.inbox(of: imapAddress)
                let pop3 = try servers.inbox(of: pop3Address)
                let queue = try desk.getJSON([QueueRow].self, "/v1/projects/\(project)/queue")
                let log = try desk.getJSON([LogRow].self, "/v1/log?limit=10000")
                let received = try notifications()
                let requested = Set(queue.compactMap { plan.mailIndex(inSummary: $0.summary) })
                let notified = Set(received.flatMap(\.indices))
                let seen = imap.filter { $0.hasFlag("\\Seen") }.count
                let pendingRows = log.filter { $0.inbound != nil && $0.outcome == "pending" }.count
                let done =
                    imap.count == imapMails && seen == imap.count && pop3.isEmpty && pendingRows == 0
                    && requested.count == plan.mails.count
                return (done, [seen, pop3.count, queue.count, log.count, received.count, notified.count])
            }
            if let snapshot {
                if snapshot.signature != last {
                    last = snapshot.signature
                    stableSince = clock.now
                }
                let comments = await ledger.comments.count
                if snapshot.done, snapshot.signature[5] >= comments, clock.now - stableSince > .seconds(3) {
                    return true
                }
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
        return false
    }

    /// One notification copy in a customer's mailbox.
    struct ReceivedNotification: Sendable {
        var customer: Int
        var messageID: String?
        var indices: [Int]
        var subject: String?
    }

    /// Every message in the customers' mailboxes: only notifications are sent there.
    private func notifications() throws -> [ReceivedNotification] {
        try (0..<plan.customers).flatMap { number in
            try servers.inbox(of: customer(number)).map { message in
                ReceivedNotification(
                    customer: number,
                    messageID: FourStepLoopTests.header("Message-ID", in: message.raw).map(Self.bare),
                    // The body as a reader sees it: the text part of the text-and-HTML alternative, once.
                    indices: plan.commentIndices(in: MailParser.parse(Array(message.raw.utf8)).text),
                    subject: FourStepLoopTests.header("Subject", in: message.raw))
            }
        }
    }

    static func bare(_ messageID: String) -> String {
        messageID.trimmingCharacters(in: CharacterSet(charactersIn: "<> \t"))
    }

    /// Counts and compares everything the run left behind.
    private func check(into report: inout CrashReport) async throws {
        let delivered = await ledger.delivered
        let comments = await ledger.comments
        report.mails = delivered.count
        report.imapMails = delivered.filter { plan.mails[$0].mailbox == .imap }.count
        report.pop3Mails = report.mails - report.imapMails
        report.kills = plan.kills.count
        for kill in plan.kills { report.killMoments[kill.moment.rawValue, default: 0] += 1 }
        report.comments = comments.count
        let unfinished = await ledger.unfinishedAtKills
        report.killsReadBack = unfinished.count
        report.killsWithUnprocessedMail = unfinished.filter { $0.inbound > 0 }.count
        report.killsWithUnsentNotifications = unfinished.filter { $0.outbox > 0 }.count
        report.killsBetweenStoreAndFlag = unfinished.filter { $0.storedNotFlagged > 0 }.count
        report.failedCommentCalls = await ledger.failedCommentCalls
        report.committedDespiteFailure = await ledger.committedDespiteFailure
        for entry in await ledger.uncertain.values.sorted(by: { $0.index < $1.index }) {
            report.harnessProblems.append(
                "\(plan.mails[entry.index].commentToken): comment on \(entry.requestKey) still uncertain at the end")
        }
        if delivered.count != plan.mails.count {
            report.harnessProblems.append("only \(delivered.count) of \(plan.mails.count) mails were delivered")
        }

        let (log, queue, requests, received, imap, pop3) = try await offPool { [self] in
            let queue = try desk.getJSON([QueueRow].self, "/v1/projects/\(project)/queue")
            let requests = try queue.map { try desk.getJSON(RequestJSON.self, "/v1/requests/\($0.key)") }
            return (
                try desk.getJSON([LogRow].self, "/v1/log?limit=10000"), queue, requests, try notifications(),
                try servers.inbox(of: imapAddress), try servers.inbox(of: pop3Address)
            )
        }
        checkInbound(log, delivered: delivered, into: &report)
        checkRequests(queue, requests, log: log, delivered: delivered, comments: comments, into: &report)
        checkNotifications(received, comments: comments, into: &report)

        // Stored mail is flagged (IMAP \Seen) or deleted (POP3) afterwards; nothing is left behind.
        for message in imap where !message.hasFlag("\\Seen") {
            let token = plan.mailIndex(inSummary: message.raw).map { plan.mails[$0].token } ?? "uid \(message.uid)"
            report.mailboxProblems.append("\(token): left unread in the IMAP mailbox")
        }
        for message in pop3 {
            let token = plan.mailIndex(inSummary: message.raw).map { plan.mails[$0].token } ?? "uid \(message.uid)"
            report.mailboxProblems.append("\(token): left on the POP3 server")
        }
    }

    /// Every delivered mail is exactly one inbound row, processed, with the outcome `created`.
    private func checkInbound(_ log: [LogRow], delivered: [Int], into report: inout CrashReport) {
        let ours = Set([imapAddress, pop3Address])
        let rows = log.filter { ours.contains($0.channel) }
        for row in rows where row.inbound == nil { report.mailboxEvents[row.outcome, default: 0] += 1 }
        let inbound = Dictionary(grouping: rows.filter { $0.inbound != nil }) { row in
            row.subject.flatMap { plan.mailIndex(inSummary: $0) } ?? -1
        }
        for row in inbound[-1] ?? [] {
            report.duplicated.append(
                "inbound \(row.inbound ?? 0): stored mail that is none of the run's (\(row.subject ?? "no subject"))")
        }
        for index in delivered {
            let mail = plan.mails[index]
            let stored = inbound[index] ?? []
            guard let row = stored.first else {
                report.lost.append("\(mail.token): no inbound row (\(mail.mailbox.rawValue))")
                continue
            }
            if stored.count > 1 {
                report.duplicated.append(
                    "\(mail.token): \(stored.count) inbound rows \(stored.compactMap(\.inbound))")
            }
            if row.channel != address(of: mail.mailbox) {
                report.lost.append("\(mail.token): stored for \(row.channel), delivered to \(mail.mailbox.rawValue)")
            }
            if row.outcome != "created" {
                report.lost.append(
                    "\(mail.token): inbound \(row.inbound ?? 0) outcome \(row.outcome): \(row.detail ?? "")")
            }
        }
    }

    /// Every delivered mail is exactly one request (by its token), from its customer, which the
    /// inbound row names; a commented request has exactly the agent's one comment, others none.
    private func checkRequests(
        _ queue: [QueueRow], _ requests: [RequestJSON], log: [LogRow], delivered: [Int],
        comments: [Int: CrashLedger.Comment], into report: inout CrashReport
    ) {
        var byIndex: [Int: [String]] = [:]
        for row in queue {
            guard let index = plan.mailIndex(inSummary: row.summary) else {
                report.duplicated.append("\(row.key): a request that is none of the run's mails (\(row.summary))")
                continue
            }
            byIndex[index, default: []].append(row.key)
            let mail = plan.mails[index]
            if row.reporter != customer(mail.customer) {
                report.lost.append("\(mail.token): \(row.key) reported by \(row.reporter), not its customer")
            }
        }
        var named: [Int: [String]] = [:]
        for row in log where row.inbound != nil {
            guard let index = row.subject.flatMap({ plan.mailIndex(inSummary: $0) }), let key = row.request else {
                continue
            }
            named[index, default: []].append(key)
        }
        for index in delivered {
            let mail = plan.mails[index]
            let keys = byIndex[index] ?? []
            if keys.isEmpty { report.lost.append("\(mail.token): no request") }
            if keys.count > 1 { report.duplicated.append("\(mail.token): \(keys.count) requests \(keys)") }
            if let key = keys.first, let named = named[index], named != [key] {
                report.duplicated.append("\(mail.token): the log names \(named), the queue \(keys)")
            }
        }
        var commentTokens: [Int: [String]] = [:]
        for request in requests {
            for comment in request.comments {
                let indices = plan.commentIndices(in: comment.body)
                guard comment.source == "agent", let index = indices.first, indices.count == 1 else {
                    report.duplicated.append(
                        "\(request.key): unexpected \(comment.source) comment \"\(comment.body.prefix(80))\"")
                    continue
                }
                commentTokens[index, default: []].append(request.key)
            }
        }
        for (index, keys) in commentTokens.sorted(by: { $0.key < $1.key }) {
            let token = plan.mails[index].commentToken
            guard let made = comments[index] else {
                report.duplicated.append("\(token): on \(keys) although the agent never had it confirmed")
                continue
            }
            if keys != [made.requestKey] {
                report.duplicated.append("\(token): made once on \(made.requestKey), found on \(keys)")
            }
        }
        for (index, made) in comments where commentTokens[index] == nil {
            report.lost.append("\(plan.mails[index].commentToken): comment on \(made.requestKey) is missing")
        }
    }

    /// Every comment's notification arrived at least once, at its customer, and every copy of it
    /// carries the one Message-ID the outbox fixed when it wrote the row.
    private func checkNotifications(
        _ received: [ReceivedNotification], comments: [Int: CrashLedger.Comment], into report: inout CrashReport
    ) {
        report.notificationCopies = received.count
        var copies: [Int: [ReceivedNotification]] = [:]
        for message in received {
            guard message.indices.count == 1, let index = message.indices.first else {
                report.notificationProblems.append(
                    "a message at customer \(message.customer) names \(message.indices.count) comments: "
                        + "\(message.subject ?? "no subject")")
                continue
            }
            copies[index, default: []].append(message)
        }
        var owners: [String: Int] = [:]
        for (index, found) in copies.sorted(by: { $0.key < $1.key }) {
            let mail = plan.mails[index]
            guard let made = comments[index] else {
                report.duplicated.append("\(mail.commentToken): notified, but the agent never had it confirmed")
                continue
            }
            let ids = Set(found.map { $0.messageID ?? "none" })
            if ids.count != 1 {
                report.notificationProblems.append(
                    "\(mail.commentToken): \(found.count) copies with \(ids.count) Message-IDs \(ids.sorted())")
            }
            if let expected = made.messageID.map(Self.bare), let id = ids.first, ids.count == 1, id != expected {
                report.notificationProblems.append(
                    "\(mail.commentToken): received Message-ID \(id), the API answered \(expected)")
            }
            for id in ids {
                if let other = owners[id], other != index {
                    report.notificationProblems.append(
                        "\(mail.commentToken): Message-ID \(id) also used for \(plan.mails[other].commentToken)")
                }
                owners[id] = index
            }
            if found.contains(where: { $0.customer != mail.customer }) {
                report.notificationProblems.append("\(mail.commentToken): a copy reached another customer")
            }
            report.resentCopies += found.count - 1
        }
        for (index, made) in comments.sorted(by: { $0.key < $1.key }) where copies[index] == nil {
            report.notificationProblems.append(
                "\(plan.mails[index].commentToken): notification of the comment on \(made.requestKey) never arrived")
        }
    }

    // MARK: Helpers

    /// What the killed server left unfinished, read while it is down: stored mail not processed yet,
    /// notifications not marked sent, and stored mail not yet flagged \Seen (IMAP) or deleted (POP3),
    /// which the next server fetches again and must recognise. Nil without the sqlite3 tool (then it
    /// is not reported); the database is opened read-only.
    private func unfinishedWork() -> CrashLedger.Unfinished? {
        guard
            let counts = sqlite(
                "SELECT (SELECT COUNT(*) FROM inbound WHERE processedAt IS NULL) || ' ' || "
                    + "(SELECT COUNT(*) FROM outbox WHERE status = 'pending')"),
            let storedIDs = sqlite("SELECT messageId FROM inbound WHERE messageId IS NOT NULL")
        else { return nil }
        let numbers = counts.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard numbers.count == 2 else { return nil }
        let stored = Set(storedIDs.split(whereSeparator: \.isNewline).map { Self.bare(String($0)) })
        let imap = (try? servers.inbox(of: imapAddress)) ?? []
        let pop3 = (try? servers.inbox(of: pop3Address)) ?? []
        let waiting = imap.filter { !$0.hasFlag("\\Seen") } + pop3
        let storedNotFlagged = waiting.filter { message in
            FourStepLoopTests.header("Message-ID", in: message.raw).map { stored.contains(Self.bare($0)) } == true
        }.count
        return CrashLedger.Unfinished(inbound: numbers[0], outbox: numbers[1], storedNotFlagged: storedNotFlagged)
    }

    /// One query's output from the sqlite3 tool on the database, read-only; nil without the tool or on error.
    private func sqlite(_ query: String) -> String? {
        let tool = "/usr/bin/sqlite3"
        guard FileManager.default.isExecutableFile(atPath: tool) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["-readonly", desk.dataDirectory.appendingPathComponent("postdesk.sqlite").path, query]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// `PostdeskProcess.start()` begins a new server log: the log of the server that just stopped
    /// is appended to `generations.log` in the data directory, to read after a failed run.
    private func keepLog(of what: String) {
        let file = desk.dataDirectory.appendingPathComponent("generations.log")
        if !FileManager.default.fileExists(atPath: file.path) {
            _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        }
        guard let handle = try? FileHandle(forWritingTo: file) else { return }
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data("===== server log up to \(what) =====\n\(desk.serverLog)\n".utf8))
    }

    /// Polls `condition` every `interval` until it holds or `timeout` passes.
    private func waitFor(
        _ timeout: Duration, every interval: Duration = .milliseconds(20), _ condition: () async -> Bool
    ) async {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline, !(await condition()) {
            try? await Task.sleep(for: interval)
        }
    }

    /// The id of the newest stored mail, from the processing log; nil when the server does not answer.
    private func newestInbound() async -> Int64? {
        let rows = try? await offPool { [desk] in try desk.getJSON([LogRow].self, "/v1/log?limit=20") }
        return rows.map { $0.compactMap(\.inbound).max() ?? 0 }
    }
}

/// The part of `postdesk request comment --json` the harness reads.
private struct CommentAnswer: Decodable {
    var notificationMessageId: String?
}

/// Runs blocking work (a child process, a socket read) on a thread of its own, so that the
/// harness's concurrent tasks never block the two threads of the cooperative pool on this machine.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}
