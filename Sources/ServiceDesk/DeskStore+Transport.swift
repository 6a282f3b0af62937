import Foundation

/// A stored link that sends passwords and mail unencrypted across the network.
public enum PlaintextLink: Sendable, Equatable, CustomStringConvertible {
    case channel(address: String, protocol: MailboxProtocol, host: String, port: Int)
    case relay(host: String, port: Int)

    /// One line for `status`: which link, and why it is flagged.
    public var description: String {
        switch self {
        case .channel(let address, let mailProtocol, let host, let port):
            "channel \(address) (\(mailProtocol.rawValue.uppercased()) \(host):\(port), tls none): \(TransportSecurity.plaintextWarning)"
        case .relay(let host, let port):
            "SMTP relay \(host):\(port) (tls none): \(TransportSecurity.plaintextWarning)"
        }
    }
}

extension DeskStore {
    /// The channels and the relay whose TLS is none to a host that is not this machine, derived
    /// from their stored settings by the one rule in `TransportSecurity`.
    public func plaintextLinks() async throws -> [PlaintextLink] {
        try await read { db in
            var links: [PlaintextLink] = try Channel.fetchAll(db, sql: "SELECT * FROM channel ORDER BY address")
                .compactMap {
                    // A push (LMTP) channel reaches no server: it has nothing to send in plaintext.
                    $0.protocol != .lmtp && TransportSecurity.isPlaintextAcrossNetwork(host: $0.host, tls: $0.tls)
                        ? .channel(address: $0.address, protocol: $0.protocol, host: $0.host, port: $0.port) : nil
                }
            if let relay = try SMTPSettings.fetchOne(db, id: 1),
                TransportSecurity.isPlaintextAcrossNetwork(host: relay.host, tls: relay.tls)
            {
                links.append(.relay(host: relay.host, port: relay.port))
            }
            return links
        }
    }
}
