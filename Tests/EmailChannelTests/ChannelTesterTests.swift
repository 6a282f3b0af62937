import Foundation
import Logging
import MailClients
import MailServerHarness
import ServiceDesk
import Testing

@testable import EmailChannel

/// "Test connection" against replayed provider transcripts, real Dovecot/OpenSMTPD and real TLS certificates.
@Suite("Channel tester", .timeLimit(.minutes(2)))
struct ChannelTesterTests {
    static let logger = Logger(label: "channel-tester-test")
    static let credentials = MailCredentials(username: "help@desk.test", password: "secret")

    static func fakeTarget(
        _ server: FakeMailServer, protocol: MailboxProtocol = .imap, tls: TLSMode = .none,
        commandTimeout: Duration = .seconds(10)
    ) -> ChannelTestTarget {
        ChannelTestTarget(
            protocol: `protocol`,
            endpoint: MailServerEndpoint(
                host: "127.0.0.1", port: server.port, tls: tls, connectTimeout: .seconds(5),
                commandTimeout: commandTimeout),
            credentials: credentials
        )
    }

    /// Runs the tester against `script` and returns the report and the server's view.
    static func test(
        _ script: FakeMailScript, protocol: MailboxProtocol = .imap, tls: TLSMode = .none,
        commandTimeout: Duration = .seconds(10)
    ) async throws -> (ChannelTestReport, FakeMailServer) {
        let server = try FakeMailServer(script)
        let report = await ChannelTester().test(
            fakeTarget(server, protocol: `protocol`, tls: tls, commandTimeout: commandTimeout), logger: logger)
        server.stop()
        return (report, server)
    }

    static func lastStep(_ report: ChannelTestReport) -> ChannelTestReport.Step? { report.steps.last }

    // MARK: Provider transcripts

    @Test("Gmail's web-login ALERT is quoted verbatim with the app-password fix")
    func gmailAlert() async throws {
        let (report, server) = try await Self.test(.gmailIMAPWebLoginAlert)
        #expect(!report.ok)
        #expect(server.unexpectedLines.isEmpty)
        #expect(report.serverText == FakeMailScript.gmailWebLoginText)
        #expect(report.diagnosis?.cause == "gmailWebLoginRequired")
        #expect(report.diagnosis?.fix.contains("app password") == true)
        #expect(Self.lastStep(report)?.name == "Log in as help@desk.test")
        #expect(Self.lastStep(report)?.ok == false)
        let text = report.renderText()
        #expect(text.contains("✓ Connect to IMAP 127.0.0.1:\(server.port)"))
        #expect(text.contains("✗ Log in as help@desk.test"))
        #expect(text.contains("Server said: \(FakeMailScript.gmailWebLoginText)"))
        #expect(text.contains("Diagnosis: Gmail refused the login"))
        #expect(text.contains("Fix: "))
    }

    @Test("Yahoo's #MBR1240 asks for an app password")
    func yahooVerify() async throws {
        let (report, server) = try await Self.test(.yahooIMAPVerifyAccount)
        #expect(server.unexpectedLines.isEmpty)
        #expect(report.serverText == FakeMailScript.yahooVerifyText)
        #expect(report.diagnosis?.cause == "yahooAccountVerification")
        #expect(report.diagnosis?.fix.contains("app password") == true)
    }

    @Test("Outlook's POP3 login limit on STAT says to wait 15 minutes and use IMAP")
    func outlookLoginLimit() async throws {
        let (report, server) = try await Self.test(.outlookPOP3LoginLimit, protocol: .pop3)
        #expect(server.unexpectedLines.isEmpty)
        #expect(report.serverText == FakeMailScript.outlookLoginLimitText)
        #expect(report.diagnosis?.cause == "outlookLoginLimit")
        #expect(report.diagnosis?.needsAttention == false)
        #expect(report.steps.map(\.ok) == [true, true, false])
        #expect(Self.lastStep(report)?.name == "STAT and UIDL")
        #expect(report.renderText().contains("Fix: postdesk waits 15 minutes"))
    }

    @Test("Microsoft's 'authenticated but not connected' fails at INBOX with the admin-center fix")
    func microsoftNotConnected() async throws {
        let (report, server) = try await Self.test(.microsoftIMAPNotConnected)
        #expect(server.unexpectedLines.isEmpty)
        #expect(report.serverText == "User is authenticated but not connected.")
        #expect(report.diagnosis?.cause == "microsoftNotConnected")
        #expect(report.steps.map(\.ok) == [true, true, false])
        #expect(Self.lastStep(report)?.name == "Open INBOX")
        #expect(report.capabilities.contains("AUTH=XOAUTH2"))
    }

    @Test("Microsoft throttling reports the suggested back-off")
    func throttled() async throws {
        let (report, server) = try await Self.test(.microsoftIMAPThrottled)
        #expect(server.unexpectedLines.isEmpty)
        #expect(report.serverText == FakeMailScript.microsoftThrottledText)
        #expect(report.diagnosis?.cause == "throttled")
        #expect(report.diagnosis?.fix.contains("299.134 seconds") == true)
    }

    @Test("a wrong password is reported as bad credentials")
    func badCredentials() async throws {
        let (report, server) = try await Self.test(.imapBadCredentials)
        #expect(server.unexpectedLines.isEmpty)
        #expect(report.serverText == "[AUTHENTICATIONFAILED] Authentication failed.")
        #expect(report.diagnosis?.cause == "badCredentials")
        #expect(report.diagnosis?.needsAttention == true)
    }

    @Test("STARTTLS required but not offered fails at the STARTTLS step")
    func starttlsNotOffered() async throws {
        let (report, server) = try await Self.test(.imapWithoutSTARTTLS, tls: .starttls)
        #expect(server.unexpectedLines.isEmpty)
        #expect(report.steps.map(\.name) == ["Connect to IMAP 127.0.0.1:\(server.port)", "STARTTLS"])
        #expect(report.steps.map(\.ok) == [true, false])
        #expect(report.diagnosis?.summary == "The server does not offer STARTTLS")
        #expect(!server.receivedLines.contains { $0.contains("STARTTLS") })
    }

    @Test("a port where nothing listens is 'connection refused'")
    func connectionRefused() async throws {
        let reserved = try ReservedLoopbackPort()
        defer { reserved.release() }
        let target = ChannelTestTarget(
            protocol: .imap,
            endpoint: MailServerEndpoint(host: "127.0.0.1", port: reserved.port, tls: .none),
            credentials: Self.credentials)
        let report = await ChannelTester().test(target, logger: Self.logger)
        #expect(report.steps.count == 1)
        #expect(report.steps.first?.ok == false)
        #expect(report.diagnosis?.summary == "Nothing accepts connections at this host and port")
        #expect(report.serverText == nil)
    }

    @Test("a server that never greets times out")
    func neverGreets() async throws {
        let (report, server) = try await Self.test(.neverGreets, commandTimeout: .milliseconds(300))
        #expect(server.connectionCount == 1)
        #expect(report.steps.count == 1)
        #expect(report.steps.first?.ok == false)
        #expect(report.diagnosis?.summary == "The server did not answer in time")
    }

    @Test("a DNS failure is explained as an unresolvable host name (mapping only, no lookup)")
    func dnsFailureMapping() {
        let error = MailClientError(.dnsFailure, "the host name imap.invalid does not resolve")
        let diagnosis = ChannelTester.diagnosis(for: error)
        #expect(diagnosis.cause == "transient")
        #expect(diagnosis.summary == "The host name does not resolve")
        #expect(diagnosis.fix == "Check the host name")
        let report = ChannelTestReport(
            steps: [.init(name: "Connect to IMAP imap.invalid:993", ok: false, detail: error.message)],
            diagnosis: diagnosis)
        #expect(
            report.renderText()
                == "✗ Connect to IMAP imap.invalid:993: the host name imap.invalid does not resolve\n"
                + "Diagnosis: The host name does not resolve\nFix: Check the host name\n")
    }

    // MARK: Real TLS

    @Test("Dovecot's certificate without its CA file is untrusted")
    func untrustedCertificate() async throws {
        let servers = try await MailServers.shared()
        let target = ChannelTestTarget(
            protocol: .imap,
            endpoint: MailServerEndpoint(host: "127.0.0.1", port: servers.imapsPort, tls: .implicit),
            credentials: Self.credentials)
        let report = await ChannelTester().test(target, logger: Self.logger)
        #expect(report.steps.map(\.name) == ["Connect to IMAP 127.0.0.1:\(servers.imapsPort)", "TLS (implicit)"])
        #expect(report.steps.map(\.ok) == [true, false])
        #expect(report.diagnosis?.summary == "The server's TLS certificate is not trusted")
    }

    @Test("Dovecot's certificate with its CA file is trusted, and the login goes through")
    func trustedCertificate() async throws {
        let servers = try await MailServers.shared()
        let address = "tls-\(UUID().uuidString.prefix(8).lowercased())@desk.test"
        try servers.addUser(address, password: "secret")
        let target = ChannelTestTarget(
            protocol: .imap,
            endpoint: MailServerEndpoint(
                host: "127.0.0.1", port: servers.imapsPort, tls: .implicit, caFile: servers.caFile),
            credentials: MailCredentials(username: address, password: "secret"))
        let report = await ChannelTester().test(target, logger: Self.logger)
        #expect(report.ok, "\(report.renderText())")
        #expect(report.steps.first { $0.name == "TLS (implicit)" }?.ok == true)
    }

    @Test("a certificate that does not name the host is a host-name mismatch")
    func hostnameMismatch() async throws {
        let server = try MismatchedTLSServer()
        defer { server.stop() }
        let target = ChannelTestTarget(
            protocol: .imap,
            endpoint: MailServerEndpoint(
                host: "127.0.0.1", port: server.port, tls: .implicit, caFile: server.caFile,
                connectTimeout: .seconds(5)),
            credentials: Self.credentials)
        let report = await ChannelTester().test(target, logger: Self.logger)
        #expect(report.steps.map(\.ok) == [true, false])
        #expect(report.diagnosis?.summary == "The server's TLS certificate is for another host name")
    }

    // MARK: Success on real servers

    static func message(_ subject: String) -> [UInt8] {
        Array("From: alice@customer.test\r\nSubject: \(subject)\r\nMessage-ID: <\(UUID())@t>\r\n\r\nBody\r\n".utf8)
    }

    @Test("IMAP on real Dovecot: counts unread mail above the link watermark, and tests the SMTP relay")
    func imapSuccess() async throws {
        let servers = try await MailServers.shared()
        let address = "ok-\(UUID().uuidString.prefix(8).lowercased())@desk.test"
        try servers.addUser(address, password: "secret")
        try servers.deliver(Self.message("before link"), to: address)
        let endpoint = MailServerEndpoint(
            host: "127.0.0.1", port: servers.imapPort, tls: .starttls, caFile: servers.caFile)
        let credentials = MailCredentials(username: address, password: "secret")
        let link = try await IMAPClient.withConnection(to: endpoint, logger: Self.logger) { imap in
            try await imap.login(credentials)
            return try await imap.select("INBOX", readOnly: true)
        }
        try servers.deliver(Self.message("after link 1"), to: address)
        try servers.deliver(Self.message("after link 2"), to: address)
        try servers.deliver(Self.message("after link, read"), to: address)
        try servers.doveadm(["flags", "add", "-u", address, "\\Seen", "mailbox", "INBOX", "uid", "4"])
        let target = ChannelTestTarget(
            protocol: .imap, endpoint: endpoint, credentials: credentials,
            watermark: .imap(uidValidity: link.uidValidity, uidNextAtLink: link.uidNext ?? 1),
            smtpRelay: .init(
                endpoint: MailServerEndpoint(host: "127.0.0.1", port: servers.smtpPort, tls: .none),
                credentials: nil, from: "help@desk.test"))
        let report = await ChannelTester().test(target, logger: Self.logger)
        #expect(report.ok, "\(report.renderText())")
        #expect(report.wouldProcess == 2)
        #expect(report.capabilities.contains("IDLE"))
        #expect(
            report.steps.map(\.name) == [
                "Connect to IMAP 127.0.0.1:\(servers.imapPort)", "STARTTLS", "Log in as \(address)", "Open INBOX",
                "Count new messages", "SMTP relay 127.0.0.1:\(servers.smtpPort)", "SMTP RSET",
            ])
        #expect(report.renderText().contains("Messages that would be processed now: 2"))
        // The test changed nothing: every message keeps its flags.
        #expect(try servers.inbox(of: address).map { $0.flags.contains("\\Seen") } == [false, false, false, true])
    }

    @Test("POP3 on real Dovecot: counts messages not present at link time, deletes nothing")
    func pop3Success() async throws {
        let servers = try await MailServers.shared()
        let address = "pop-\(UUID().uuidString.prefix(8).lowercased())@desk.test"
        try servers.addUser(address, password: "secret")
        try servers.deliver(Self.message("before link"), to: address)
        let endpoint = MailServerEndpoint(
            host: "127.0.0.1", port: servers.pop3sPort, tls: .implicit, caFile: servers.caFile)
        let credentials = MailCredentials(username: address, password: "secret")
        let atLink = try await POP3Client.withConnection(to: endpoint, logger: Self.logger) { pop3 in
            try await pop3.login(credentials)
            let uids = Set(try await pop3.uidl().map(\.uid))
            try await pop3.quit()
            return uids
        }
        try servers.deliver(Self.message("after link"), to: address)
        let report = await ChannelTester().test(
            ChannelTestTarget(
                protocol: .pop3, endpoint: endpoint, credentials: credentials, watermark: .pop3(uidlsAtLink: atLink)),
            logger: Self.logger)
        #expect(report.ok, "\(report.renderText())")
        #expect(report.wouldProcess == 1)
        #expect(report.capabilities.contains("UIDL"))
        #expect(try servers.inbox(of: address).count == 2)
    }

    @Test("the report survives a JSON round trip")
    func codable() throws {
        let report = ChannelTestReport(
            steps: [.init(name: "Connect", ok: false, detail: "refused")], serverText: "x",
            diagnosis: .init(cause: "transient", summary: "s", fix: "f", needsAttention: false))
        let decoded = try JSONDecoder().decode(ChannelTestReport.self, from: JSONEncoder().encode(report))
        #expect(decoded == report)
        #expect(!decoded.ok)
    }
}
