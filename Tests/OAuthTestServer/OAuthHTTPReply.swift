import Foundation

/// What an endpoint answers, before it becomes a Hummingbird response: a status, extra headers and a body.
struct OAuthHTTPReply: Sendable {
    var status: Int
    var headers: [(String, String)] = []
    var body: [UInt8]
    var contentType: String

    /// A JSON reply; token and error replies must not be cached (RFC 6749 §5.1).
    static func json(_ object: [String: any Sendable], status: Int = 200) -> OAuthHTTPReply {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return OAuthHTTPReply(
            status: status, headers: [("Cache-Control", "no-store"), ("Pragma", "no-cache")], body: Array(data),
            contentType: "application/json; charset=utf-8")
    }

    /// An error reply in the client's style; `invalid_client` after HTTP Basic gets a `WWW-Authenticate`
    /// challenge (RFC 6749 §5.2).
    static func failure(_ failure: OAuthFailure, style: OAuthErrorStyle, at now: Date, usedBasic: Bool = false)
        -> OAuthHTTPReply
    {
        var reply = json(failure.body(in: style, at: now), status: failure.status(in: style))
        if failure.error == "invalid_client", usedBasic {
            reply.headers.append(("WWW-Authenticate", "Basic realm=\"oauth-test\""))
        }
        return reply
    }

    /// A 302 to `location` (the authorization endpoint's answer, RFC 6749 §4.1.2).
    static func redirect(to location: String) -> OAuthHTTPReply {
        OAuthHTTPReply(status: 302, headers: [("Location", location)], body: [], contentType: "text/plain")
    }

    /// A small HTML page (what a person would see at the authorization or verification address).
    static func page(_ text: String, status: Int = 200) -> OAuthHTTPReply {
        let escaped = text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        return OAuthHTTPReply(
            status: status, body: Array("<!doctype html><title>OAuth test server</title><p>\(escaped)</p>\n".utf8),
            contentType: "text/html; charset=utf-8")
    }
}
