import Foundation

/// Normalises addresses for comparison and identifies the mailbox account behind a channel.
public enum AddressNormalizer {
    /// Lowercased, trimmed `local@domain`, or nil when it is not an address.
    public static func normalize(_ address: String) -> String? {
        var text = address.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("<") && text.hasSuffix(">") { text = String(text.dropFirst().dropLast()) }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
            !text.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "," || $0 == ";" })
        else { return nil }
        return text.lowercased()
    }

    /// The account a channel reads: host and user name, with Gmail's dots and `+tags` removed so
    /// that two aliases of one Gmail account are recognised as the same mailbox.
    public static func accountKey(host: String, username: String) -> String {
        let user = username.lowercased()
        let parts = user.split(separator: "@", maxSplits: 1).map(String.init)
        if parts.count == 2, ["gmail.com", "googlemail.com"].contains(parts[1]) {
            let local = parts[0].split(separator: "+", maxSplits: 1).first.map(String.init) ?? parts[0]
            return "gmail:" + local.replacingOccurrences(of: ".", with: "") + "@gmail.com"
        }
        return host.lowercased() + ":" + user
    }
}
