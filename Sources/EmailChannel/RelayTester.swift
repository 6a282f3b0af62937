import Foundation
import Logging
import MailClients
import PostdeskWire

/// Tests SMTP relay settings before they are saved (`postdesk smtp set`), the way the notifier will use them:
/// connect, EHLO, STARTTLS or implicit TLS, AUTH, then MAIL FROM with the notifications' sender and RSET, then
/// QUIT. No mail is sent. The report has each step, the relay's own words, our diagnosis and the fix.
public struct RelayTester: Sendable {
    /// A tester.
    public init() {}

    /// Runs the test; never throws: every failure is a failed step in the report.
    public func test(_ relay: ChannelTestTarget.SMTPRelay, logger: Logger) async -> ChannelTestReport {
        let endpoint = relay.endpoint
        let connectName = "Connect to SMTP relay \(endpoint.host):\(endpoint.port)"
        let tlsName = endpoint.tls == .implicit ? "TLS (implicit)" : "STARTTLS"
        let loginName = relay.credentials.map { "Log in as \($0.username)" }
        let senderName = "Sender \(relay.from)"
        var steps: [ChannelTestReport.Step] = []
        var capabilities: [String] = []
        var failure: (error: MailClientError?, diagnosis: RelayDiagnosis)?
        var opened = false

        func passSetUp(greeting: String) {
            steps.append(.init(name: connectName, ok: true, detail: greeting))
            if endpoint.tls != .none { steps.append(.init(name: tlsName, ok: true, detail: "certificate verified")) }
            if let loginName { steps.append(.init(name: loginName, ok: true, detail: "authenticated")) }
        }

        do {
            try await SMTPClient.withConnection(
                to: endpoint, credentials: relay.credentials, heloName: ehloName(forSender: relay.from), logger: logger
            ) { smtp in
                opened = true
                capabilities = smtp.capabilities.keywords.keys.sorted()
                passSetUp(greeting: smtp.greeting?.verbatim ?? "greeted")
                let reply = try await smtp.checkSender(relay.from)
                if reply.isPositiveCompletion {
                    steps.append(
                        .init(name: senderName, ok: true, detail: "MAIL FROM accepted, then RSET; no mail sent"))
                } else {
                    let diagnosis = RelayDiagnosis.senderRefused(reply, sender: relay.from)
                    steps.append(.init(name: senderName, ok: false, detail: diagnosis.summary))
                    failure = (nil, diagnosis)
                }
            }
        } catch {
            let diagnosis = RelayDiagnosis.diagnose(error)
            let clientError = error as? MailClientError
            let detail = clientError?.message ?? diagnosis.summary
            if opened {
                steps.append(.init(name: senderName, ok: false, detail: detail))
            } else {
                switch Self.failedStage(clientError) {
                case .connect:
                    steps.append(.init(name: connectName, ok: false, detail: detail))
                case .tls:
                    steps.append(.init(name: connectName, ok: true, detail: "connected"))
                    steps.append(.init(name: tlsName, ok: false, detail: detail))
                case .login:
                    steps.append(.init(name: connectName, ok: true, detail: "greeted"))
                    if endpoint.tls != .none {
                        steps.append(.init(name: tlsName, ok: true, detail: "certificate verified"))
                    }
                    steps.append(.init(name: loginName ?? "Log in", ok: false, detail: detail))
                }
            }
            failure = (clientError, diagnosis)
        }
        return ChannelTestReport(
            steps: steps, capabilities: capabilities, serverText: failure?.diagnosis.serverText,
            diagnosis: failure?.diagnosis.reportDiagnosis)
    }

    private enum Stage { case connect, tls, login }

    /// Which set-up step an error of `SMTPClient.withConnection` belongs to, from its code.
    private static func failedStage(_ error: MailClientError?) -> Stage {
        guard let error else { return .connect }
        switch error.code {
        case .tlsCertificateUntrusted, .tlsHostnameMismatch, .tlsHandshakeFailed, .starttlsNotOffered: return .tls
        case .authenticationFailed, .authenticationMechanismUnsupported: return .login
        default:
            // RFC 4954 §6: 530 authentication required, 534 mechanism too weak, 535 credentials invalid,
            // 538 encryption required; 454 temporary authentication failure.
            if let code = error.replyCode, [454, 530, 534, 535, 538].contains(code) { return .login }
            return .connect
        }
    }
}
