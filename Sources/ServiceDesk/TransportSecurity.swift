import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The one rule for mail server links without TLS: plaintext is fine to this machine, and across
/// the network only when the admin says so, because the password and every mail would cross it
/// unencrypted.
public enum TransportSecurity {
    /// What `status` says about a link that crosses the network unencrypted.
    public static let plaintextWarning = "plaintext: passwords and mail cross the network unencrypted"

    /// The flag an admin gives to accept plaintext across the network.
    public static let consentFlag = "--insecure-plaintext"

    /// Whether `host` names this machine: `localhost`, an IPv4 address in 127.0.0.0/8, or `::1`
    /// (RFC 1122 §3.2.1.3 reserves 127/8 for loopback, RFC 4291 §2.5.3 defines ::1, RFC 6761 §6.3
    /// `localhost`). Anything else, including names that merely resolve to loopback today, is not.
    public static func isLoopback(host: String) -> Bool {
        var name = host.trimmingCharacters(in: .whitespaces).lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        if name == "localhost" { return true }
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        var ipv4 = in_addr()
        if inet_pton(AF_INET, name, &ipv4) == 1 {
            return UInt32(bigEndian: ipv4.s_addr) >> 24 == 127
        }
        var ipv6 = in6_addr()
        if inet_pton(AF_INET6, name, &ipv6) == 1 {
            let bytes = withUnsafeBytes(of: ipv6) { Array($0) }
            if bytes == Array(repeating: 0, count: 15) + [1] { return true }
            // An IPv4-mapped loopback address (::ffff:127.x.y.z, RFC 4291 §2.5.5.2).
            return bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff && bytes[12] == 127
        }
        return false
    }

    /// Whether a link to `host` with `tls` sends passwords and mail unencrypted across the network.
    public static func isPlaintextAcrossNetwork(host: String, tls: ServerTLS) -> Bool {
        tls == .none && !isLoopback(host: host)
    }

    /// Refuses a link that would cross the network unencrypted, unless the admin consented.
    /// - Parameter what: names the link in the message, e.g. "the IMAP server" or "the SMTP relay".
    public static func permit(host: String, tls: ServerTLS, insecurePlaintext: Bool, what: String) throws {
        guard isPlaintextAcrossNetwork(host: host, tls: tls), !insecurePlaintext else { return }
        throw DeskError.invalid(
            "--tls none to \(what) \(host) would send the password and every mail unencrypted across the network; use --tls implicit or starttls, or pass \(consentFlag) if this network is trusted"
        )
    }
}
