import Foundation
import LMTPServer
import Logging
import MailServerHarness
import Prometheus
import Testing

@testable import EmailChannel
@testable import ServiceDesk

/// A Prometheus registry of the test's own and postdesk's series made in it, as `serve` makes them.
struct MetricsProbe {
    let registry = PrometheusCollectorRegistry()
    let metrics: PostdeskMetrics

    init() {
        metrics = PostdeskMetrics(factory: PrometheusMetricsFactory(registry: registry))
    }

    /// The text exposition, as `/metrics` serves it.
    var text: String { registry.emitToString() }

    /// The value of one series (`name{labels}` exactly as emitted), nil when it is not emitted.
    func value(_ series: String) -> Double? {
        text.split(separator: "\n").lazy.compactMap { line -> Double? in
            guard line.hasPrefix(series + " ") else { return nil }
            return Double(line.dropFirst(series.count + 1))
        }.first
    }
}

/// The metrics each runtime part records, read from a registry of the test's own: the router's outcomes and intake
/// latency, the mailbox actor's fetches and failure causes (real Dovecot, and a server replaying Gmail), the
/// notifier's sends and refusals, the LMTP intake's results, and the channels by state.
@Suite("Metrics recorded by the runtime", .timeLimit(.minutes(2)))
struct MetricsTests {
    static func mail(_ raw: String) -> [UInt8] {
        Array(raw.replacingOccurrences(of: "\n", with: "\r\n").utf8)
    }

    @Test("the router counts each outcome, attempt failures and quarantine, and the intake latency of requests")
    func routerOutcomes() async throws {
        let probe = MetricsProbe()
        let store = try DeskStore.inMemory()
        try await makeServiceDeskProject(in: store, signup: .public)
        let channel = try #require(
            try await store.linkChannel(
                ChannelDraft(
                    projectKey: "SD", address: "help@desk.test", protocol: .imap, host: "127.0.0.1", port: 1,
                    tls: .none, caFile: nil, username: "help@desk.test", password: "x", requestTypeName: "Get help"),
                watermark: LinkWatermark(uidValidity: 1, uidNext: 1)
            ).id)
        let router = RequestRouter(store: store, metrics: probe.metrics, logger: Logger(label: "test"))
        #expect(probe.value(#"postdesk_inbound_outcomes_total{outcome="created"}"#) == 0)
        #expect(probe.value("postdesk_intake_latency_seconds_count") == 0)

        for raw in [
            "From: alice@customer.test\nSubject: Printer\nMessage-ID: <r1@customer.test>\n\nBroken.",
            "From: bob@customer.test\nSubject: Away\nAuto-Submitted: auto-replied\nMessage-ID: <r2@customer.test>\n\nOut.",
        ] {
            _ = try await store.receive(channelId: channel, raw: Self.mail(raw), mailboxUid: nil)
        }
        try await router.drainPending()
        #expect(probe.value(#"postdesk_inbound_outcomes_total{outcome="created"}"#) == 1)
        #expect(probe.value(#"postdesk_inbound_outcomes_total{outcome="ignored"}"#) == 1)
        // Only the request is timed: an ignored mail commits no request or comment.
        #expect(probe.value("postdesk_intake_latency_seconds_count") == 1)
        let seconds = try #require(probe.value("postdesk_intake_latency_seconds_sum"))
        #expect(seconds >= 0 && seconds < 60)

        // Every new request refused: three failed attempts, and the third quarantines the mail.
        try await store.writeSQLite { db in
            try db.execute(
                sql: "CREATE TRIGGER refuse BEFORE INSERT ON request BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
        }
        _ = try await store.receive(
            channelId: channel,
            raw: Self.mail("From: carol@customer.test\nSubject: Fax\nMessage-ID: <r3@customer.test>\n\nDead."),
            mailboxUid: nil)
        for _ in 1...3 { try await router.drainPending() }
        #expect(probe.value("postdesk_inbound_attempt_failures_total") == 3)
        #expect(probe.value(#"postdesk_inbound_outcomes_total{outcome="failed"}"#) == 1)
        #expect(probe.value(#"postdesk_inbound_outcomes_total{outcome="created"}"#) == 1)
        #expect(!probe.text.contains("@"))
    }

    @Test("a mailbox on real Dovecot counts the new mail it fetched by protocol and provider, never by address")
    func mailboxFetches() async throws {
        let probe = MetricsProbe()
        var rig = try await MailboxIntegrationTests.rig()
        rig.router = RequestRouter(store: rig.store, metrics: probe.metrics, logger: Logger(label: "t"))
        let channel = try await MailboxLinker(store: rig.store, logger: Logger(label: "t"))
            .link(MailboxIntegrationTests.draft(rig)).channel
        for n in 1...2 {
            try rig.servers.deliver(MailboxIntegrationTests.message("m\(n)", id: "m\(n)@x"), to: rig.address)
        }
        let store = rig.store
        try await MailboxIntegrationTests.run(rig, channel: channel) {
            try await store.queue(projectKey: "SD").count == 2
        }
        #expect(probe.value(#"postdesk_mail_fetched_total{protocol="imap",provider="custom"}"#) == 2)
        #expect(probe.value(#"postdesk_mail_fetched_total{protocol="pop3",provider="custom"}"#) == 0)
        #expect(probe.value(#"postdesk_inbound_outcomes_total{outcome="created"}"#) == 2)
        #expect(
            probe.value(#"postdesk_mail_fetch_failures_total{protocol="imap",provider="custom",cause="transient"}"#)
                == 0)
        #expect(!probe.text.contains(rig.address))
        #expect(!probe.text.contains("@"))
    }

    @Test("Gmail's web-login ALERT is counted as a failure of its own cause, for the Gmail IMAP series")
    func mailboxFailureCause() async throws {
        let probe = MetricsProbe()
        let server = try FakeMailServer(.gmailIMAPWebLoginAlert)
        defer { server.stop() }
        let store = try DeskStore.inMemory()
        try await makeServiceDeskProject(in: store, signup: .public)
        var channel = try await store.linkChannel(
            ChannelDraft(
                projectKey: "SD", address: "desk@gmail.test", protocol: .imap, host: "127.0.0.1", port: 1,
                tls: .none, caFile: nil, username: "desk@gmail.test", password: "pw", requestTypeName: "Get help"),
            watermark: LinkWatermark(uidValidity: 1, uidNext: 1))
        channel.port = server.port
        channel.provider = .gmail
        let board = ChannelStatusBoard()
        // The router has no metrics of the probe's: the mailbox records into the ones it is given.
        let mailbox = MailboxActor(
            channel: RunnableChannel(channel: channel, password: "pw", projectKey: "SD"), store: store,
            router: RequestRouter(store: store, logger: Logger(label: "t")), statusBoard: board, clock: ManualClock(),
            metrics: probe.metrics, logger: Logger(label: "t"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await mailbox.run() }
            try await MailboxBackoffClockTests.waitFor("needs-attention") {
                await board.all().first?.state == .needsAttention
            }
            group.cancelAll()
        }
        let gmail = #"protocol="imap",provider="gmail""#
        #expect(probe.value("postdesk_mail_fetch_failures_total{\(gmail),cause=\"gmailWebLoginRequired\"}") == 1)
        #expect(probe.value("postdesk_mail_fetch_failures_total{\(gmail),cause=\"badCredentials\"}") == 0)
        #expect(probe.value("postdesk_mail_fetched_total{\(gmail)}") == 0)
    }

    @Test("the notifier counts sends, a refused recipient by cause, and a relay that refuses the login")
    func notifierCounts() async throws {
        let refusing = try FakeMailServer(
            RelayScript.smtp(
                RelayScript.login + [
                    .expect("MAIL FROM:<help@desk.test>", "250 2.1.0 Ok"),
                    .expect("RCPT TO:<\(NotifierDesk.alice)>", "550 5.1.1 Recipient address rejected: User unknown"),
                    .expect("RSET", "250 2.0.0 Ok"),
                ]
                    + RelayScript.delivery(to: [NotifierDesk.alice])))
        defer { refusing.stop() }
        let probe = MetricsProbe()
        let desk = try await NotifierDesk(relayPort: refusing.port)
        try await desk.notify("first")
        try await desk.notify("second")
        let notifier = Notifier(
            store: desk.store, clock: ManualClock(), metrics: probe.metrics, logger: Logger(label: "t"))
        _ = await notifier.pass()
        #expect(try await desk.entries().map(\.status) == [.failed, .sent])
        #expect(probe.value("postdesk_notifications_sent_total") == 1)
        #expect(probe.value(#"postdesk_notification_failures_total{cause="recipientsRefused"}"#) == 1)
        #expect(probe.value(#"postdesk_notification_failures_total{cause="dataRefused"}"#) == 0)
        #expect(probe.value(#"postdesk_relay_failures_total{cause="badCredentials"}"#) == 0)

        let locked = try FakeMailServer(RelayScript.smtp(RelayScript.refusedLogin))
        defer { locked.stop() }
        try await desk.setRelay(port: locked.port)
        try await desk.notify("third")
        _ = await notifier.pass()
        #expect(probe.value(#"postdesk_relay_failures_total{cause="badCredentials"}"#) == 1)
        #expect(probe.value("postdesk_notifications_sent_total") == 1)
        #expect(!probe.text.contains("@"))
    }

    @Test("the LMTP intake counts each recipient's result and a redelivery as a duplicate")
    func lmtpResults() async throws {
        let probe = MetricsProbe()
        let store = try DeskStore.inMemory()
        try await makeServiceDeskProject(in: store, signup: .public)
        _ = try await store.linkChannel(
            ChannelDraft(
                projectKey: "SD", address: "help@desk.test", protocol: .lmtp, host: "", port: 0, tls: .none,
                caFile: nil, username: "", password: "", requestTypeName: "Get help"),
            watermark: LinkWatermark(uidValidity: nil, uidNext: nil))
        let router = RequestRouter(store: store, metrics: probe.metrics, logger: Logger(label: "t"))
        let intake = LMTPIntake(
            store: store, router: router, statusBoard: ChannelStatusBoard(), logger: Logger(label: "t"))
        let delivery = LMTPDelivery(
            reversePath: "alice@customer.test", recipients: ["help@desk.test", "nobody@desk.test"], body: .sevenBit,
            message: Self.mail("From: alice@customer.test\nSubject: Printer\nMessage-ID: <l1@customer.test>\n\nJams.\n")
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await router.run() }
            #expect(await intake.deliver(delivery) == [.delivered, .unknownRecipient])
            try await waitUntil("the request") { try await store.queue(projectKey: "SD").count == 1 }
            // Processed by now: the MTA's retry is a duplicate.
            #expect(await intake.deliver(delivery) == [.delivered, .unknownRecipient])
            group.cancelAll()
        }
        #expect(probe.value(#"postdesk_lmtp_deliveries_total{result="delivered"}"#) == 2)
        #expect(probe.value(#"postdesk_lmtp_deliveries_total{result="unknownRecipient"}"#) == 2)
        #expect(probe.value(#"postdesk_lmtp_deliveries_total{result="temporaryFailure"}"#) == 0)
        #expect(probe.value(#"postdesk_inbound_outcomes_total{outcome="duplicate"}"#) == 1)
        #expect(probe.value(#"postdesk_inbound_outcomes_total{outcome="created"}"#) == 1)
        #expect(!probe.text.contains("@"))
    }

    @Test("channels by state come from the status board; a state no channel is in shows 0")
    func channelsByState() async throws {
        let probe = MetricsProbe()
        let board = ChannelStatusBoard()
        await board.update(1, address: "a@desk.test") { $0.state = .idle }
        await board.update(2, address: "b@desk.test") { $0.state = .idle }
        await board.update(3, address: "c@desk.test") { $0.state = .needsAttention }
        probe.metrics.showChannels(await board.countsByState())
        #expect(probe.value(#"postdesk_channels{state="idle"}"#) == 2)
        #expect(probe.value(#"postdesk_channels{state="needs-attention"}"#) == 1)
        #expect(probe.value(#"postdesk_channels{state="fetching"}"#) == 0)
        await board.remove(3)
        probe.metrics.showChannels(await board.countsByState())
        #expect(probe.value(#"postdesk_channels{state="needs-attention"}"#) == 0)
        #expect(!probe.text.contains("@"))
    }

    @Test("every series postdesk makes has a # HELP line right before its # TYPE line; other series are left alone")
    func helpLines() throws {
        let probe = MetricsProbe()
        probe.metrics.showChannels([.idle: 1])
        let other = probe.registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: "other", unitName: "total", helpText: ""))
        other.increment()
        var buffer: [UInt8] = []
        probe.registry.emit(into: &buffer)
        let text = String(decoding: PostdeskMetrics.addingHelp(to: buffer), as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for name in PostdeskMetrics.Name.allCases {
            guard let type = lines.firstIndex(where: { $0.hasPrefix("# TYPE \(name.rawValue) ") }) else { continue }
            #expect(type > 0 && lines[type - 1] == "# HELP \(name.rawValue) \(name.help)")
        }
        #expect(lines.contains { $0.hasPrefix("# TYPE postdesk_channels ") })
        #expect(!text.contains("# HELP other_total"))
        // Nothing else changes: without the HELP lines the text is the registry's own.
        #expect(
            lines.filter { !$0.hasPrefix("# HELP ") }.joined(separator: "\n") == String(decoding: buffer, as: UTF8.self)
        )
    }
}
