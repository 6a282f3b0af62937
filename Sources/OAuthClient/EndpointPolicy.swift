import Foundation

/// Where the client may send credentials: https anywhere, plain http only to this machine (RFC 6749 §3.1, §3.2
/// require TLS for the authorization and token endpoints; RFC 8252 §8.3 treats loopback as on-box).
enum EndpointPolicy {
    /// Refuses anything but an https URL with a host, or an http URL whose host is a loopback address.
    static func check(_ url: String, role: String) throws(OAuthError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else {
            throw .refused(
                "the \(role) address \"\(url.prefix(200))\" is not a URL", fix: "give the provider's https:// address")
        }
        switch scheme {
        case "https":
            return
        case "http" where isLoopback(host: host):
            return
        default:
            throw .refused(
                "refusing to send OAuth requests to the \(role) \(scheme)://\(host.prefix(100)): only https, or http "
                    + "to a loopback address, keeps the client secret and tokens off the network in plain text",
                fix: "use the provider's https:// address")
        }
    }

    /// 127.0.0.0/8, ::1 (with or without brackets) and `localhost`.
    static func isLoopback(host: String) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name == "localhost" || name == "::1" || name == "0:0:0:0:0:0:0:1" { return true }
        let octets = name.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return false }
        let values = octets.map { part -> Int? in
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber) else {
                return nil
            }
            return Int(part).flatMap { $0 <= 255 ? $0 : nil }
        }
        return values.allSatisfy { $0 != nil } && values.first == 127
    }
}
