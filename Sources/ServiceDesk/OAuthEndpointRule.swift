import Foundation

/// The one rule for an OAuth 2.0 endpoint address: https, because client secrets, codes and tokens
/// cross it (RFC 6749 §3.1 and §3.2 require TLS); plain http only to this machine, for tests.
public enum OAuthEndpointRule {
    /// Refuses an endpoint that is not an absolute https URL (or http on a loopback address), that
    /// carries user information, or that has a fragment (RFC 6749 §3.1: "MUST NOT include a
    /// fragment component").
    /// - Parameter what: the option that gave it, e.g. `--token-url`, named in the message.
    /// - Returns: whether the endpoint uses https (a CA file only makes sense then).
    @discardableResult
    public static func check(_ text: String, what: String) throws -> Bool {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(),
            let host = url.host, !host.isEmpty
        else {
            throw DeskError(.invalid, "\(what) \(text) is not an absolute URL such as https://login.example.com/token")
        }
        guard url.user == nil, url.password == nil else {
            throw DeskError(.invalid, "\(what) must not carry a user name or password in the URL")
        }
        guard url.fragment == nil else {
            throw DeskError(.invalid, "\(what) \(text) must not have a fragment (#…) (RFC 6749 §3.1)")
        }
        switch scheme {
        case "https":
            return true
        case "http" where TransportSecurity.isLoopback(host: host):
            return false
        case "http":
            throw DeskError(
                .invalid,
                "\(what) \(text) is plain http: the client secret and tokens would cross the network unencrypted; use https (with --ca-file for a private CA); plain http is allowed only to this machine"
            )
        default:
            throw DeskError(.invalid, "\(what) \(text) is not an https URL")
        }
    }
}
