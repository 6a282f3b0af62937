/// An enhanced mail system status code such as `5.7.8` (RFC 3463, carried in replies per RFC 2034).
public struct SMTPEnhancedStatusCode: Sendable, Hashable, CustomStringConvertible {
    /// 2 success, 4 persistent transient failure, 5 permanent failure.
    public var statusClass: Int
    /// The subject, e.g. 7 for security or policy status.
    public var subject: Int
    /// The detail within the subject.
    public var detail: Int

    /// Creates a status code from its three parts.
    public init(statusClass: Int, subject: Int, detail: Int) {
        self.statusClass = statusClass
        self.subject = subject
        self.detail = detail
    }

    /// The dotted form, e.g. `5.7.8`.
    public var description: String { "\(statusClass).\(subject).\(detail)" }

    // RFC 3463 §2:
    // status-code = class "." subject "." detail
    // class       = "2" / "4" / "5"
    // subject     = 1*3digit
    // detail      = 1*3digit
    // RFC 2034 §4: the code follows the reply code and a space, and its class matches the reply's first digit.
    /// Parses the status code at the start of `text` (the text after "250 "); `nil` when there is none.
    static func parse(prefixOf text: String, replyCode: Int) -> SMTPEnhancedStatusCode? {
        let token = text.utf8.prefix { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
        let parts = token.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var numbers: [Int] = []
        for (index, part) in parts.enumerated() {
            let maximumDigits = index == 0 ? 1 : 3
            guard !part.isEmpty, part.count <= maximumDigits,
                part.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
            else { return nil }
            numbers.append(part.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) })
        }
        guard [2, 4, 5].contains(numbers[0]), numbers[0] == replyCode / 100 else { return nil }
        return SMTPEnhancedStatusCode(statusClass: numbers[0], subject: numbers[1], detail: numbers[2])
    }
}
