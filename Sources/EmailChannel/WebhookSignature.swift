import Crypto
import Foundation
import PostdeskWire

/// How a webhook request is signed, so that a receiver can tell it came from this postdesk and is fresh:
/// `X-Postdesk-Signature: sha256=<hex>` where hex is the lowercase HMAC-SHA256 (RFC 2104, FIPS 180-4), keyed with
/// the webhook's secret (its UTF-8 text as shown at `webhook add`), of `<timestamp>.<body>`: the decimal Unix time
/// of `X-Postdesk-Timestamp`, a full stop, and the body's bytes exactly as received. Signing the timestamp lets a
/// receiver reject a replayed request whose timestamp is old (docs/WEBHOOKS.md suggests five minutes).
public enum WebhookSignature {
    /// The header value for `body` sent at `timestamp` (seconds since 1970).
    public static func header(body: some DataProtocol, timestamp: Int64, secret: String) -> String {
        "sha256=" + hex(body: body, timestamp: timestamp, secret: secret)
    }

    /// Whether `header` is the signature of `body` at `timestamp`, compared in constant time.
    public static func verify(header: String, body: some DataProtocol, timestamp: Int64, secret: String) -> Bool {
        let expected = Array(Self.header(body: body, timestamp: timestamp, secret: secret).utf8)
        let given = Array(header.utf8)
        guard given.count == expected.count else { return false }
        return zip(given, expected).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private static func hex(body: some DataProtocol, timestamp: Int64, secret: String) -> String {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: Data(secret.utf8)))
        mac.update(data: Data("\(timestamp).".utf8))
        mac.update(data: body)
        return mac.finalize().map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }
}
