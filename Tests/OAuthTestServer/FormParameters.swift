import Foundation

/// The parameters of an `application/x-www-form-urlencoded` body or query (RFC 6749 Appendix B), each name at most
/// once (RFC 6749 §3.1, §3.2: "parameters MUST NOT be included more than once").
struct FormParameters: Sendable {
    private var values: [String: String] = [:]
    /// The first name that appeared twice, if any.
    private(set) var repeatedName: String?

    /// Parses `a=b&c=d`, `+` as space, percent-decoded; linear in the input's length.
    init(_ text: Substring) {
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), !name.isEmpty else { continue }
            let value = parts.count > 1 ? Self.decode(parts[1]) ?? "" : ""
            if values.updateValue(value, forKey: name) != nil, repeatedName == nil { repeatedName = name }
        }
    }

    /// The value of `name`, `nil` when absent or empty (RFC 6749 §3.1: empty means omitted).
    subscript(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    /// The value of `name`, or `invalid_request` naming it.
    func required(_ name: String) throws(OAuthFailure) -> String {
        guard let value = self[name] else { throw .invalidRequest(name) }
        return value
    }

    /// The parameters encoded again, in name order (for redirect queries).
    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    private static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// The client credentials of HTTP Basic authentication (RFC 6749 §2.3.1: id and secret form-urlencoded, then
/// joined by ":" and base64-encoded, RFC 7617).
struct BasicCredentials: Sendable, Equatable {
    var id: String
    var secret: String

    /// Parses an `Authorization: Basic …` header; `nil` for any other scheme or a malformed value.
    init?(header: String?) {
        guard let header, header.count > 6, header.prefix(6).lowercased() == "basic " else { return nil }
        guard let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: data, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        else { return nil }
        let decode = { (part: Substring) in part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
        guard let id = decode(text[..<colon]), let secret = decode(text[text.index(after: colon)...]) else {
            return nil
        }
        self.id = id
        self.secret = secret
    }
}
