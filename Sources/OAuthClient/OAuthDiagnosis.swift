/// What an OAuth failure means for the admin: our summary, the fix, and the provider's own words.
public struct OAuthDiagnosis: Sendable, Equatable {
    /// Microsoft's `AADSTSnnnn` number, when `error_description` starts with one.
    public var aadstsCode: Int?
    /// What happened, in our words.
    public var summary: String
    /// What the admin should do.
    public var fix: String
    /// The provider's own words (`error: error_description`), kept verbatim (cut at 500 characters).
    public var providerText: String?

    /// A diagnosis.
    public init(aadstsCode: Int? = nil, summary: String, fix: String, providerText: String? = nil) {
        self.aadstsCode = aadstsCode
        self.summary = summary
        self.fix = fix
        self.providerText = providerText
    }

    /// One line for a table or a log: `summary; the provider said "…". fix`.
    public var line: String {
        guard let providerText else { return "\(summary). \(fix)" }
        return "\(summary); the provider said \"\(providerText)\". \(fix)"
    }

    /// The longest provider text kept (error bodies may be up to 64 KiB).
    static let providerTextLimit = 500

    /// `error: error_description`, or whichever is present, cut to `providerTextLimit` characters.
    static func providerText(errorCode: String?, errorDescription: String?) -> String? {
        let parts = [errorCode, errorDescription].compactMap { $0?.isEmpty == false ? $0 : nil }
        guard !parts.isEmpty else { return nil }
        let text = parts.joined(separator: ": ")
        guard text.count > providerTextLimit else { return text }
        return String(text.prefix(providerTextLimit)) + "…"
    }

    /// The number of an `AADSTSnnnn` code at the start of `description` (Entra ID writes `AADSTS50173: …`).
    /// Reads at most the first few characters, so it is constant-time whatever the description's length.
    static func aadstsCode(in description: String?) -> Int? {
        guard let description else { return nil }
        let head = description.utf8.drop { $0 == 0x20 }.prefix(20)
        guard head.starts(with: "AADSTS".utf8) else { return nil }
        let digits = head.dropFirst(6).prefix { (0x30...0x39).contains($0) }
        guard !digits.isEmpty, digits.count <= 10 else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }
}
