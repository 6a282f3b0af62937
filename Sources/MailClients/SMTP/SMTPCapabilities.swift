/// What a server announced in its EHLO reply (RFC 5321 §4.1.1.1); empty after a HELO fallback.
public struct SMTPCapabilities: Sendable, Hashable {
    /// Each announced keyword, upper-cased, with its parameters as sent.
    public var keywords: [String: [String]]
    /// The domain the server named in the first line of its EHLO reply.
    public var serverDomain: String

    /// Creates capabilities from keywords (upper-cased here).
    public init(serverDomain: String = "", keywords: [String: [String]] = [:]) {
        self.serverDomain = serverDomain
        self.keywords = Dictionary(keywords.map { ($0.key.uppercased(), $0.value) }, uniquingKeysWith: { $0 + $1 })
    }

    /// STARTTLS is offered (RFC 3207 §4).
    public var supportsStartTLS: Bool { keywords["STARTTLS"] != nil }
    /// SASL mechanisms offered with AUTH (RFC 4954 §3), upper-cased.
    public var authenticationMechanisms: [String] { (keywords["AUTH"] ?? []).map { $0.uppercased() } }
    /// SIZE is offered, so MAIL FROM may carry `SIZE=` (RFC 1870 §4).
    public var supportsSize: Bool { keywords["SIZE"] != nil }
    /// The fixed maximum message size in bytes; `nil` when none is announced (absent or 0, RFC 1870 §4).
    public var maximumMessageSize: Int? {
        guard let text = keywords["SIZE"]?.first, let size = Int(text), size > 0 else { return nil }
        return size
    }
    /// 8BITMIME is offered, so MAIL FROM may carry `BODY=8BITMIME` (RFC 6152 §2).
    public var supports8BitMIME: Bool { keywords["8BITMIME"] != nil }
    /// SMTPUTF8 is offered: UTF-8 addresses are allowed (RFC 6531 §3.1).
    public var supportsSMTPUTF8: Bool { keywords["SMTPUTF8"] != nil }
    /// PIPELINING is offered (RFC 2920 §3).
    public var supportsPipelining: Bool { keywords["PIPELINING"] != nil }
    /// ENHANCEDSTATUSCODES is offered (RFC 2034 §3).
    public var supportsEnhancedStatusCodes: Bool { keywords["ENHANCEDSTATUSCODES"] != nil }

    // ehlo-ok-rsp  = ( "250" SP Domain [ SP ehlo-greet ] CRLF )
    //              / ( "250-" Domain [ SP ehlo-greet ] CRLF
    //                 *( "250-" ehlo-line CRLF )
    //                 "250" SP ehlo-line CRLF )
    // ehlo-line    = ehlo-keyword *( SP ehlo-param )
    // ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
    // ehlo-param   = 1*(%d33-126)
    /// Reads the capabilities from a positive EHLO reply. Lines that are not a valid ehlo-line are skipped,
    /// as are the pre-standard `AUTH=PLAIN LOGIN` lines, except that their mechanisms are kept.
    static func parse(ehloReply reply: SMTPReply) -> SMTPCapabilities {
        let domain = (reply.lines.first ?? "").split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
        var keywords: [String: [String]] = [:]
        for line in reply.lines.dropFirst() {
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard var keyword = words.first?.uppercased() else { continue }
            var parameters = Array(words.dropFirst())
            if keyword.hasPrefix("AUTH=") {
                // Old servers (RFC 4954 predecessors) announce "AUTH=LOGIN PLAIN".
                parameters.insert(String(keyword.dropFirst(5)), at: 0)
                keyword = "AUTH"
            }
            guard let first = keyword.utf8.first, Self.isAlphaDigit(first),
                keyword.utf8.allSatisfy({ Self.isAlphaDigit($0) || $0 == UInt8(ascii: "-") })
            else { continue }
            keywords[keyword, default: []].append(contentsOf: parameters)
        }
        return SMTPCapabilities(serverDomain: domain, keywords: keywords)
    }

    private static func isAlphaDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
