// The steps of intake one by one, without a mail server: reading IMAP FETCH responses with literals, storing an
// inbound mail and its request, the router's decision for a stored mail, and composing a notification. The load
// harness (Benchmarks/load) measures them together against real Dovecot; these say which step costs what.
import Benchmark
import Foundation
import IntakeFixtures
import MailClients
import MailMessage
import ServiceDesk

/// A plain-text customer mail of about 1.2 KB, the size the load harness delivers.
func customerMail(_ n: Int, salt: String) -> [UInt8] {
    let line = "Hello, the printer on the third floor prints every page twice since this morning.\r\n"
    return Array(
        ("From: Customer <c\(n % 200)@customer.test>\r\nTo: help@desk.test\r\nSubject: Printer \(n)\r\n"
            + "Date: Tue, 01 Dec 2026 10:00:00 +0000\r\nMessage-ID: <m\(n).\(salt)@customer.test>\r\n"
            + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDear support team,\r\n\r\n"
            + String(repeating: line, count: 12) + "\r\nBest regards,\r\nA customer\r\n").utf8)
}

/// What Dovecot sends for `UID FETCH n:m (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])`: one FETCH response per
/// message, each carrying the message as a literal (RFC 3501 §7.4.2), then the tagged OK.
func fetchResponses(count: Int) -> [UInt8] {
    var bytes: [UInt8] = []
    for n in 1...count {
        let raw = customerMail(n, salt: "fetch")
        bytes += Array(
            "* \(n) FETCH (UID \(n + 100) FLAGS (\\Recent) INTERNALDATE \"01-Dec-2026 10:00:00 +0000\" RFC822.SIZE \(raw.count) BODY[] {\(raw.count)}\r\n"
                .utf8)
        bytes += raw
        bytes += Array(")\r\n".utf8)
    }
    bytes += Array("A7 OK Fetch completed (0.001 + 0.000 secs).\r\n".utf8)
    return bytes
}

/// Where this process's stores live; removed at exit (`atexit` below).
let benchmarkDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(
    "intake-bench-\(ProcessInfo.processInfo.processIdentifier)")

/// A fresh store in a temporary directory with one project, request type and IMAP channel, as the server has them.
func makeStore() async throws -> (store: DeskStore, channelId: Int64, directory: URL) {
    let directory = benchmarkDirectory.appendingPathComponent(UUID().uuidString)
    let (store, channelId) = try await makeIntakeStore(in: directory)
    return (store, channelId, directory)
}

let unlimited = IntakePolicy(senderHourlyLimit: 0)

let benchmarks: @Sendable () -> Void = {
    atexit { try? FileManager.default.removeItem(at: benchmarkDirectory) }
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal], maxDuration: .seconds(5))

    // 50 FETCH responses of 1.2 KB literals per iteration (one mailbox's backlog in the harness's drain), fed in
    // 16 KB reads as a socket delivers them: throughput × 50 = messages/s.
    let fetchStream = fetchResponses(count: 50)
    let reads = stride(from: 0, to: fetchStream.count, by: 16_384).map {
        Array(fetchStream[$0..<min($0 + 16_384, fetchStream.count)])
    }
    Benchmark("imap: read 50 FETCH responses with 1.2 KB literals (16 KB reads)") { benchmark in
        for _ in benchmark.scaledIterations {
            var reader = IMAPResponseReader()
            var messages = 0
            for read in reads {
                messages += try reader.read(read).count
            }
            guard messages == 50 else { throw DeskError(.storage, "read \(messages) of 50 messages") }
            blackHole(messages)
        }
    }

    // One iteration stores a new inbound mail (receive: raw bytes, dedupe key, log event) and its request (process:
    // admission, threading, request row) in two transactions with synchronous=FULL, as the router does per mail
    // today. One store per benchmark, growing as the server's does; every mail is new (its own Message-ID).
    nonisolated(unsafe) var storeContext: (store: DeskStore, channelId: Int64)?
    nonisolated(unsafe) var storeCount = 0
    Benchmark(
        "store: receive + process one mail (inbound row and its request)", configuration: .init(scalingFactor: .one)
    ) { benchmark in
        if storeContext == nil {
            let made = try await makeStore()
            storeContext = (made.store, made.channelId)
        }
        guard let (store, channelId) = storeContext else { return }
        storeCount += 1
        let raw = customerMail(storeCount, salt: "store")
        benchmark.startMeasurement()
        let outcome = try await store.receive(channelId: channelId, raw: raw, mailboxUid: String(storeCount))
        _ = try await store.process(MailReading(raw: raw), inboundId: outcome.inboundId, policy: unlimited)
        benchmark.stopMeasurement()
    }

    // The router's share alone: the mail is received first (not measured), then read (MailReading: parse, classify,
    // strip) and decided in the store (process): one decision per iteration.
    nonisolated(unsafe) var routerContext: (store: DeskStore, channelId: Int64)?
    nonisolated(unsafe) var routerCount = 0
    Benchmark("router: decide one stored mail (MailReading + process)", configuration: .init(scalingFactor: .one)) {
        benchmark in
        if routerContext == nil {
            let made = try await makeStore()
            routerContext = (made.store, made.channelId)
        }
        guard let (store, channelId) = routerContext else { return }
        routerCount += 1
        let raw = customerMail(routerCount, salt: "router")
        let inboundId = try await store.receive(channelId: channelId, raw: raw, mailboxUid: String(routerCount))
            .inboundId
        benchmark.startMeasurement()
        _ = try await store.process(MailReading(raw: raw), inboundId: inboundId, policy: unlimited)
        benchmark.stopMeasurement()
    }

    // Reading alone (what the router does before it asks the store), to split the router figure.
    let sample = customerMail(1, salt: "read")
    Benchmark("router: MailReading of one 1.2 KB mail", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(MailReading(raw: sample).summary.utf8.count)
        }
    }

    // A notification as NotificationComposer builds it (reply marker, comment, Reply-To with a token, threading
    // headers, Auto-Submitted), composed to bytes: the pure part of notifying.
    let comment = String(repeating: "We have replaced the fuser unit; please try again and tell us. ", count: 6)
    let references = (1...10).map { "<m\($0)@customer.test>" }
    Benchmark("notify: compose one notification (MailComposer)", configuration: .init(scalingFactor: .kilo)) {
        benchmark in
        for _ in benchmark.scaledIterations {
            let mail = OutgoingMail(
                from: MailAddress(name: "Service Desk", address: "help@desk.test"),
                to: [MailAddress(address: "c1@customer.test")], cc: [MailAddress(address: "c2@customer.test")],
                replyTo: [MailAddress(name: "Service Desk", address: "help+sd-12.a1b2c3d4e5f6@desk.test")],
                subject: "[SD-12] The printer prints every page twice",
                text: "##- Please type your reply above this line -##\n\nagent@desk.test commented on SD-12:\n\n"
                    + comment + "\n\n---\nSD-12: The printer prints every page twice\n",
                messageID: MailComposer.makeMessageID(domain: "desk.test"), inReplyTo: references.last,
                references: references, date: Date(),
                extraHeaders: [("Auto-Submitted", "auto-generated"), ("X-Auto-Response-Suppress", "All")])
            blackHole(MailComposer.compose(mail).count)
        }
    }

    // An agent's public comment with its notification: the comment row, the composed notification and its outbox
    // row, in one store transaction (addAgentComment), on one request made beforehand.
    nonisolated(unsafe) var commentContext: (store: DeskStore, key: String)?
    Benchmark(
        "notify: agent comment with its notification (addAgentComment)", configuration: .init(scalingFactor: .one)
    ) { benchmark in
        if commentContext == nil {
            let made = try await makeStore()
            let raw = customerMail(1, salt: "comment")
            let received = try await made.store.receive(channelId: made.channelId, raw: raw, mailboxUid: "1")
            _ = try await made.store.process(MailReading(raw: raw), inboundId: received.inboundId)
            guard let key = try await made.store.queue(projectKey: "SD").first?.key else {
                throw DeskError(.storage, "no request to comment on")
            }
            commentContext = (made.store, key)
        }
        guard let (store, key) = commentContext else { return }
        benchmark.startMeasurement()
        _ = try await store.addAgentComment(
            requestKey: key, author: "agent@desk.test", body: comment, isPublic: true, recipientHourlyLimit: 0)
        benchmark.stopMeasurement()
    }
}
