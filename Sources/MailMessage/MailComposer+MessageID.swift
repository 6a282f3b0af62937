extension MailComposer {
    /// A Message-ID with a caller's local part (a dot-atom, RFC 5322 §3.6.4 `id-left`) on the cleaned
    /// `domain` that `makeMessageID(domain:)` would use; the caller makes the local part unique.
    public static func makeMessageID(domain: String, localPart: String) -> String {
        let generated = makeMessageID(domain: domain)
        let cleanDomain = generated.lastIndex(of: "@").map { generated[generated.index(after: $0)...] } ?? "localhost"
        return localPart + "@" + cleanDomain
    }
}
