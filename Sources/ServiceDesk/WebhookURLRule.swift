import Foundation

/// The one rule for a webhook's address: https, because the payload carries customers' mail and the signature
/// only proves who sent it, not who read it; plain http only to this machine (a receiver beside the server, tests).
public enum WebhookURLRule {
    /// The longest URL taken.
    public static let maximumLength = 2048

    /// Refuses an address that is not an absolute https URL (or http on a loopback address), that carries user
    /// information (it would be sent in clear in every log line that shows the URL), or that has a fragment (never
    /// sent to a server, RFC 3986 §3.5).
    public static func check(_ text: String) throws {
        guard text.utf8.count <= maximumLength else {
            throw DeskError.invalid("a webhook URL has at most \(maximumLength) characters")
        }
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), let host = url.host,
            !host.isEmpty
        else {
            throw DeskError.invalid("\(text) is not an absolute URL such as https://tickets.example.com/hooks/postdesk")
        }
        guard url.user == nil, url.password == nil else {
            throw DeskError.invalid("a webhook URL must not carry a user name or password; the signature authenticates")
        }
        guard url.fragment == nil else {
            throw DeskError.invalid("\(text) must not have a fragment (#…): it is never sent (RFC 3986 §3.5)")
        }
        switch scheme {
        case "https":
            return
        case "http" where TransportSecurity.isLoopback(host: host):
            return
        case "http":
            throw DeskError.invalid(
                "\(text) is plain http: requests and comments would cross the network unencrypted; use https (plain http is allowed only to this machine)"
            )
        default:
            throw DeskError.invalid("\(text) is not an https URL")
        }
    }
}
