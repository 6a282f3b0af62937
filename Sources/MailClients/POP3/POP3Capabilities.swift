/// What a server announced in its CAPA answer (RFC 2449 §5); empty when it does not know CAPA.
public struct POP3Capabilities: Sendable, Hashable {
    /// Each capability tag, upper-cased, with its arguments as sent.
    public var tags: [String: [String]]

    /// Creates capabilities from tags (upper-cased here).
    public init(tags: [String: [String]] = [:]) {
        self.tags = Dictionary(tags.map { ($0.key.uppercased(), $0.value) }, uniquingKeysWith: { $0 + $1 })
    }

    /// STLS is offered (RFC 2595 §4).
    public var supportsSTLS: Bool { tags["STLS"] != nil }
    /// SASL mechanisms offered for AUTH (RFC 2449 §6.3, RFC 5034), upper-cased.
    public var saslMechanisms: [String] { (tags["SASL"] ?? []).map { $0.uppercased() } }
    /// USER/PASS is offered (RFC 2449 §6.4).
    public var supportsUser: Bool { tags["USER"] != nil }
    /// UIDL is offered (RFC 2449 §6.6).
    public var supportsUIDL: Bool { tags["UIDL"] != nil }
    /// TOP is offered (RFC 2449 §6.2).
    public var supportsTop: Bool { tags["TOP"] != nil }
    /// PIPELINING is offered (RFC 2449 §6.6).
    public var supportsPipelining: Bool { tags["PIPELINING"] != nil }
    /// Extended response codes such as `[IN-USE]` are used (RFC 2449 §6.5).
    public var supportsResponseCodes: Bool { tags["RESP-CODES"] != nil }
    /// `[AUTH]`/`[SYS/…]` codes are used (RFC 3206 §5).
    public var supportsAuthResponseCode: Bool { tags["AUTH-RESP-CODE"] != nil }
    /// The minimum seconds between logins the server enforces (LOGIN-DELAY, RFC 2449 §6.7); `nil` when not sent.
    public var loginDelaySeconds: Int? { tags["LOGIN-DELAY"]?.first.flatMap { Int($0) } }
    /// The server's retention policy (EXPIRE, RFC 2449 §6.8): "NEVER", or days as text.
    public var expire: String? { tags["EXPIRE"]?.first }
    /// The server's self-description (IMPLEMENTATION, RFC 2449 §6.9).
    public var implementation: String? { tags["IMPLEMENTATION"].map { $0.joined(separator: " ") } }

    // capa-resp  = "+OK" ... CRLF *capability "." CRLF
    // capability = capa-tag *(SP param) CRLF        (RFC 2449 §9)
    // capa-tag   = 1*cchar
    // param      = 1*pchar
    // cchar      = %x21-2D / %x2F-7F   ; printable ASCII, excluding "."
    // pchar      = %x21-7F             ; printable ASCII
    /// Reads the capabilities from a positive CAPA body; lines that are not a capability are skipped.
    static func parse(capaBody body: [UInt8]) -> POP3Capabilities {
        var tags: [String: [String]] = [:]
        for line in POP3Listing.lines(of: body) {
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard let tag = words.first?.uppercased(),
                tag.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7F && $0 != UInt8(ascii: ".") })
            else { continue }
            tags[tag, default: []].append(contentsOf: words.dropFirst())
        }
        return POP3Capabilities(tags: tags)
    }
}
