import Crypto
import Foundation

/// The unguessable token that lets a mail join a request without coming from its reporter, a
/// participant or an agent: only someone who received one of the request's notifications has it.
///
/// It is an HMAC of the request key under a key derived from the data directory's secret, carried in
/// the notification's Message-ID (`postdesk.sd-12.<token>.<random>@domain`, so In-Reply-To and
/// References of a reply bring it back, RFC 5322 §3.6.4) and in a plus-address Reply-To
/// (`help+sd-12.<token>@domain`, RFC 5233 subaddressing).
public struct ReplyToken: Sendable, Equatable {
    /// The request key the token names, upper-case (`SD-12`).
    public var requestKey: String
    /// The token text, 16 lower-case base32 characters.
    public var token: String

    static let messageIDPrefix = "postdesk."

    /// The token of a request, under a store's secrets.
    static func make(requestKey: String, secrets: SecretBox) -> ReplyToken {
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: secrets.keyBytes), info: Data("postdesk reply token v1".utf8),
            outputByteCount: 32)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(requestKey.uppercased().utf8), using: key)
        return ReplyToken(requestKey: requestKey.uppercased(), token: base32(Array(mac.prefix(10))))
    }

    /// Whether this token is the one the secrets give its request (compared in constant time).
    func isValid(secrets: SecretBox) -> Bool {
        let expected = Array(Self.make(requestKey: requestKey, secrets: secrets).token.utf8)
        let given = Array(token.utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The local part of a notification's Message-ID carrying the token; unique per notification.
    func messageIDLocalPart() -> String {
        let random = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        return "\(Self.messageIDPrefix)\(requestKey.lowercased()).\(token).\(random)"
    }

    /// The channel address with the token as its subaddress.
    func replyAddress(channelAddress: String) -> String {
        guard let at = channelAddress.lastIndex(of: "@") else { return channelAddress }
        let local = channelAddress[..<at].split(separator: "+", maxSplits: 1).first.map(String.init) ?? ""
        return "\(local)+\(requestKey.lowercased()).\(token)\(channelAddress[at...])"
    }

    /// Tokens found in Message-IDs a mail answers and in the addresses it was sent to, in that order;
    /// not yet checked against any key.
    public static func tokens(inMessageIDs messageIDs: [String], addresses: [String]) -> [ReplyToken] {
        var found: [ReplyToken] = []
        for id in messageIDs where id.lowercased().hasPrefix(messageIDPrefix) {
            let parts = id.lowercased().split(separator: "@", maxSplits: 1)[0].split(separator: ".")
            if parts.count == 4, let token = parse(key: parts[1], token: parts[2]) { found.append(token) }
        }
        for address in addresses {
            let local = address.lowercased().split(separator: "@", maxSplits: 1)[0]
            let sub = local.split(separator: "+", maxSplits: 1)
            guard sub.count == 2 else { continue }
            let parts = sub[1].split(separator: ".")
            if parts.count == 2, let token = parse(key: parts[0], token: parts[1]) { found.append(token) }
        }
        return found
    }

    private static func parse(key: Substring, token: Substring) -> ReplyToken? {
        let dash = key.lastIndex(of: "-")
        guard let dash, key[key.index(after: dash)...].allSatisfy(\.isASCIIDigit), key.count <= 40,
            token.count == 16, token.allSatisfy({ alphabet.contains($0) })
        else { return nil }
        return ReplyToken(requestKey: key.uppercased(), token: String(token))
    }

    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")

    /// RFC 4648 §6 base32, lower-case, without padding (the input is a multiple of 5 bytes).
    private static func base32(_ bytes: [UInt8]) -> String {
        var out = ""
        var buffer = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return out
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
