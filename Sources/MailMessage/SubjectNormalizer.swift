/// Turns a mail subject into a request summary: reply and forward prefixes removed, whitespace collapsed.
public enum SubjectNormalizer {
    /// Reply and forward prefixes in many languages, lowercased, without the colon. Longer forms first.
    static let prefixes: [String] = [
        // English and common
        "re", "fwd", "fw", "fwrd",
        // German
        "aw", "wg", "antw", "antwort", "wtr",
        // Dutch
        "antw", "doorst",
        // Nordic
        "sv", "vs", "vb", "vl", "fs", "vs", "vast", "välit",
        // French, Italian, Spanish, Portuguese
        "réf", "ref", "rép", "rep", "tr", "trans", "r", "rif", "i", "inoltro", "rv", "res", "enc", "reenv",
        // Turkish, Polish, Czech, Slovak, Hungarian, Croatian, Slovenian, Romanian, Greek, Hebrew, Arabic
        "ynt", "ilt", "odp", "pd", "fwd", "přeposlat", "odpověď", "vá", "továbbítás", "odg", "pr", "preusmjereno",
        "πρθ", "απ", "σχετ", "השב", "הועבר", "رد", "إعادة توجيه", "ria", "fw",
        // Russian, Ukrainian
        "отв", "ответ", "пересл", "fwd", "відп",
        // Chinese, Japanese, Korean
        "回复", "回覆", "答复", "答覆", "转发", "轉寄", "转寄", "转", "返信", "転送", "답장", "회신", "전달",
        // Vietnamese, Indonesian, Malay
        "tl", "trả lời", "balas", "bls", "trs",
    ]

    private static let sortedPrefixes: [String] = Array(Set(prefixes)).sorted { $0.count > $1.count }

    /// The summary for a request made from a mail with this subject: "Re:", "RE: Fwd:", "Re[2]:", "AW:",
    /// "返信：" and their kin removed from the front, repeatedly; tags like "[EXT]" are kept; the ends are trimmed
    /// (inner whitespace, such as a tab kept by header unfolding, stays as sent). Empty → "(no subject)".
    ///
    /// Linear in the subject: each prefix is looked for in the next `prefixWindow` characters only (a prefix with
    /// its counter and spaces is far shorter), so "Re: " × 100,000 is not folded and lower-cased 100,000 times.
    public static func summary(from subject: String?) -> String {
        var rest = Substring((subject ?? "").trimmingASCIIWhitespace())
        while let consumed = prefixLength(rest) {
            // Trimmed as scalars, as `trimmingASCIIWhitespace` does (the end is trimmed already).
            rest = Substring(rest.dropFirst(consumed).unicodeScalars.drop { $0.isASCIIWhitespace })
        }
        return rest.isEmpty ? "(no subject)" : String(rest)
    }

    /// How many characters a prefix is looked for in.
    static let prefixWindow = 64

    private static let prefixFirstCharacters = Set(sortedPrefixes.compactMap(\.first))

    /// Whitespace runs (including tabs, line breaks and U+3000) become one space; the ends are trimmed.
    static func collapseWhitespace(_ text: String) -> String {
        var result = ""
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            if scalar.properties.isWhitespace || scalar.value < 0x20 {
                pendingSpace = true
                continue
            }
            if pendingSpace && !result.isEmpty { result.append(" ") }
            pendingSpace = false
            result.unicodeScalars.append(scalar)
        }
        return result
    }

    /// The number of characters of one leading prefix ("Re:", "Re[2]:", "Re(3):", "Re^2:", "RE :", full-width
    /// "Ｒｅ：") within the first `prefixWindow` characters, or nil.
    private static func prefixLength(_ text: Substring) -> Int? {
        let folded = fullWidthFolded(text.prefix(prefixWindow))
        let lower = folded.lowercased()
        guard let first = lower.first, prefixFirstCharacters.contains(first) else { return nil }
        for prefix in sortedPrefixes where lower.hasPrefix(prefix) {
            var rest = lower.dropFirst(prefix.count)
            // A counter: "[2]", "(2)", "^2", "*2".
            if let first = rest.first, first == "[" || first == "(" {
                let close: Character = first == "[" ? "]" : ")"
                let inner = rest.dropFirst().prefix { $0 != close }
                guard !inner.isEmpty, inner.allSatisfy(\.isNumber), rest.dropFirst(inner.count + 1).first == close
                else { continue }
                rest = rest.dropFirst(inner.count + 2)
            } else if let first = rest.first, first == "^" || first == "*" {
                let digits = rest.dropFirst().prefix { $0.isNumber }
                guard !digits.isEmpty else { continue }
                rest = rest.dropFirst(digits.count + 1)
            }
            let afterSpaces = rest.drop { $0 == " " }
            guard let colon = afterSpaces.first, colon == ":" else { continue }
            // Mapped back to the original by character count (folding and lowercasing keep counts here).
            return lower.count - afterSpaces.count + 1
        }
        return nil
    }

    /// Full-width ASCII (U+FF01–U+FF5E) folded to ASCII and U+3000 to a space, character for character.
    private static func fullWidthFolded(_ text: Substring) -> String {
        var result = ""
        for character in text {
            if character.unicodeScalars.count == 1, let scalar = character.unicodeScalars.first {
                if (0xFF01...0xFF5E).contains(scalar.value), let ascii = Unicode.Scalar(scalar.value - 0xFEE0) {
                    result.append(Character(ascii))
                    continue
                }
                if scalar.value == 0x3000 {
                    result.append(" ")
                    continue
                }
            }
            result.append(character)
        }
        return result
    }
}
