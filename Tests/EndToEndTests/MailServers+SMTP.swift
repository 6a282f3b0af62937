import Logging
import MailClients
import MailServerHarness

extension MailServers {
    /// Sends a customer's mail (LF line ends, as written in the tests) through this instance's OpenSMTPD,
    /// which delivers it into Dovecot over LMTP as in production.
    func send(_ raw: String, from: String, to: String) async throws {
        let endpoint = MailServerEndpoint(host: "127.0.0.1", port: smtpPort, tls: .none)
        _ = try await SMTPClient.send(
            Array(raw.replacingOccurrences(of: "\n", with: "\r\n").utf8), from: from, to: [to], via: endpoint,
            credentials: nil, heloName: "customer.test", logger: Logger(label: "e2e"))
    }
}
