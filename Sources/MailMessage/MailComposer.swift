import Foundation

/// Writes `OutgoingMail` as RFC 5322 bytes, CRLF line ends: a single text/plain UTF-8 part in quoted-printable, or
/// with an HTML alternative a multipart/alternative of the text then the HTML, both UTF-8 quoted-printable.
///
/// No supplied value can start a new header line: CR, LF and other control characters in names, subjects,
/// message ids and extra headers are replaced by spaces before anything is written.
public enum MailComposer {
    /// The message bytes. Header order: Date, From, To, Cc, Reply-To, Subject, Message-ID, In-Reply-To, References,
    /// MIME-Version, Content-Type, Content-Transfer-Encoding, then the extra headers. Non-ASCII subjects and display
    /// names become RFC 2047 encoded-words, and so does one with a word too long for a line; lines are folded at 78
    /// characters (RFC 5322 §2.1.1), at 76 when they hold an encoded-word (RFC 2047 §2). The body is quoted-printable,
    /// in lines of at most 76 characters (RFC 2045 §6.7), however long the lines of the text are (RFC 5322 §2.1.1
    /// allows 998).
    public static func compose(_ mail: OutgoingMail) -> [UInt8] {
        var lines: [String] = []
        lines.append(fold("Date", [MailDate.format(mail.date)]))
        lines.append(fold("From", list([mail.from], headerName: "From")))
        if !mail.to.isEmpty { lines.append(fold("To", list(mail.to, headerName: "To"))) }
        if !mail.cc.isEmpty { lines.append(fold("Cc", list(mail.cc, headerName: "Cc"))) }
        if !mail.replyTo.isEmpty { lines.append(fold("Reply-To", list(mail.replyTo, headerName: "Reply-To"))) }
        lines.append(fold("Subject", unstructured(mail.subject, headerName: "Subject")))
        lines.append(fold("Message-ID", ["<\(msgID(mail.messageID))>"]))
        if let inReplyTo = mail.inReplyTo, !msgID(inReplyTo).isEmpty {
            lines.append(fold("In-Reply-To", ["<\(msgID(inReplyTo))>"]))
        }
        let references = mail.references.map(msgID).filter { !$0.isEmpty }
        if !references.isEmpty { lines.append(fold("References", references.map { "<\($0)>" })) }
        lines.append("MIME-Version: 1.0")
        let boundary = mail.html.map { _ in Self.makeBoundary() }
        if let boundary {
            // Folded before the parameter: with it the line would pass 78 characters (RFC 5322 §2.1.1).
            lines.append("Content-Type: multipart/alternative;\r\n boundary=\"\(boundary)\"")
        } else {
            lines.append("Content-Type: text/plain; charset=utf-8")
            lines.append("Content-Transfer-Encoding: quoted-printable")
        }
        for (name, value) in mail.extraHeaders {
            let cleanName = String(
                String.UnicodeScalarView(name.unicodeScalars.filter { $0.value > 0x20 && $0.value < 0x7F && $0 != ":" })
            )
            guard !cleanName.isEmpty else { continue }
            lines.append(fold(cleanName, unstructured(value, headerName: cleanName)))
        }
        var message = lines.joined(separator: "\r\n") + "\r\n\r\n"
        if let boundary, let html = mail.html {
            // RFC 2046 §5.1.4: alternatives in increasing order of preference, so the HTML comes last.
            message += part(mail.text, type: "text/plain", boundary: boundary)
            message += part(html, type: "text/html", boundary: boundary)
            message += "--\(boundary)--\r\n"
        } else {
            message += quotedPrintable(mail.text)
        }
        return Array(message.utf8)
    }

    /// A body part of a multipart: its delimiter line, its headers, its quoted-printable content (RFC 2046 §5.1.1).
    private static func part(_ content: String, type: String, boundary: String) -> String {
        "--\(boundary)\r\nContent-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            + quotedPrintable(content)
    }

    /// `content` quoted-printable, ending with a line end.
    private static func quotedPrintable(_ content: String) -> String {
        let encoded = TransferEncoding.encodeQuotedPrintable(content)
        return encoded.hasSuffix("\r\n") ? encoded : encoded + "\r\n"
    }

    /// A boundary that no quoted-printable content can contain: it holds "=_", and quoted-printable writes every "="
    /// of the content as "=3D" and ends soft breaks with "=" at the line end (RFC 2045 §6.7), so the delimiter line
    /// cannot occur inside a part (RFC 2046 §5.1.1). Quoted in the header, since "=" is a tspecial.
    static func makeBoundary() -> String {
        "=_postdesk_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    /// A new Message-ID without angle brackets: "postdesk.<32 hex digits>@domain" (RFC 5322 §3.6.4).
    public static func makeMessageID(domain: String) -> String {
        let hex = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        var cleanDomain = String(
            domain.lowercased().unicodeScalars.filter {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "-" || $0.value >= 0x80
            }.map(Character.init))
        cleanDomain = cleanDomain.trimming(charactersIn: ".")
        if cleanDomain.isEmpty { cleanDomain = "localhost" }
        return "postdesk.\(hex)@\(cleanDomain)"
    }

    /// Control characters (CR and LF above all) replaced by spaces.
    static func singleLine(_ value: String) -> String {
        String(
            String.UnicodeScalarView(
                value.unicodeScalars.map {
                    $0.value < 0x20 || $0.value == 0x7F || $0 == "\u{2028}" || $0 == "\u{2029}" || $0 == "\u{0085}"
                        ? " " : $0
                }))
    }

    /// A msg-id's inside: brackets, whitespace and control characters removed.
    static func msgID(_ value: String) -> String {
        String(
            String.UnicodeScalarView(
                value.unicodeScalars.filter {
                    $0.value > 0x20 && $0.value != 0x7F && $0 != "<" && $0 != ">" && !$0.properties.isWhitespace
                }))
    }

    /// Mailboxes as foldable words, a comma after each mailbox but the last.
    private static func list(_ addresses: [MailAddress], headerName: String) -> [String] {
        var words: [String] = []
        for (index, address) in addresses.enumerated() {
            var mailbox = formatWords(address, firstWordLimit: words.isEmpty ? 76 - headerName.utf8.count - 2 : 75)
            if index < addresses.count - 1, let last = mailbox.popLast() { mailbox.append(last + ",") }
            words += mailbox
        }
        return words
    }

    private static let atext = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~ ".unicodeScalars)

    /// A mailbox as `name <address>` (RFC 5322 §3.4): the name as atoms, a quoted-string, or encoded-words (RFC 2047
    /// §5 (3)); a bare address when there is no name.
    static func format(_ address: MailAddress) -> String {
        formatWords(address, firstWordLimit: 75).joined(separator: " ")
    }

    /// A mailbox as foldable words: the phrase split at its spaces (folding there unfolds to the same text, also
    /// inside a quoted-string, RFC 5322 §3.2.4), or encoded-words, then "<address>".
    static func formatWords(_ address: MailAddress, firstWordLimit: Int) -> [String] {
        let addr = String(
            String.UnicodeScalarView(
                address.address.unicodeScalars.filter {
                    $0.value > 0x20 && $0.value != 0x7F && $0 != "<" && $0 != ">" && $0 != ","
                        && !$0.properties.isWhitespace
                }))
        let name = SubjectNormalizer.collapseWhitespace(singleLine(address.name ?? ""))
        if name.isEmpty { return [addr] }
        var phrase: [String] = []
        // A name that looks like an encoded-word is encoded too: parsers decode encoded-words even inside quoted
        // strings (RFC 2047 §5 says not to, but mail clients do), so quoting would not keep it as written.
        if name.unicodeScalars.allSatisfy({ $0.isASCII }) && !name.contains("=?") {
            if name.unicodeScalars.allSatisfy({ atext.contains($0) }) {
                phrase = name.split(separator: " ").map(String.init)
            } else {
                let escaped = name.replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "\"", with: "\\\"")
                phrase = ("\"" + escaped + "\"").split(separator: " ").map(String.init)
            }
            // The first word may share its line with "Name: " (`firstWordLimit` leaves room for the 76 of an
            // encoded-word line; plain words may use 78), a later one has a line of its own after the space.
            if !fits(phrase, firstRoom: firstWordLimit + 2) { phrase = [] }
        }
        if phrase.isEmpty { phrase = EncodedWord.encode(name, firstWordLimit: firstWordLimit) }
        return phrase + ["<\(addr)>"]
    }

    /// Unstructured text (RFC 5322 §3.2.5) as foldable words: ASCII words as they are, anything non-ASCII (or
    /// looking like an encoded-word) as UTF-8 encoded-words.
    static func unstructured(_ value: String, headerName: String) -> [String] {
        let clean = singleLine(value)
        // Keep runs of spaces by folding only at single spaces.
        let words = clean.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        let needsEncoding = !clean.unicodeScalars.allSatisfy { $0.isASCII } || clean.contains("=?")
        // A word (or run of spaces) too long for a line can only be split as encoded-words (RFC 2047 §2), and then
        // the whole value is encoded: whitespace between two encoded-words is dropped when decoding (§6.2), so
        // spaces next to one would be lost.
        if !needsEncoding,
            fold(headerName, words).split(separator: "\r\n").allSatisfy({ $0.utf8.count <= maxLineLength })
        {
            return words
        }
        // The first word shares its line with "Name: " (lines with encoded-words at most 76).
        return EncodedWord.encode(clean, firstWordLimit: maxEncodedLineLength - headerName.utf8.count - 2)
    }

    /// RFC 5322 §2.1.1: a line SHOULD be at most 78 characters, CRLF excluded.
    static let maxLineLength = 78
    /// RFC 2047 §2: a header line holding an encoded-word is at most 76 characters.
    static let maxEncodedLineLength = 76

    /// Whether every word fits a folded line: the first in `firstRoom`, each later one on a line of its own after
    /// the folding space.
    private static func fits(_ words: [String], firstRoom: Int) -> Bool {
        guard let first = words.first else { return true }
        return first.utf8.count <= firstRoom && words.dropFirst().allSatisfy { $0.utf8.count <= maxLineLength - 1 }
    }

    /// "Name: word word…" folded before a word when the line would pass 78 characters (RFC 5322 §2.2.3), or 76 when
    /// the line holds an encoded-word (RFC 2047 §2). Folding is CRLF and a space: encoded-words are always
    /// separated by whitespace (§5).
    static func fold(_ name: String, _ words: [String]) -> String {
        var output = name + ":"
        var lineLength = output.utf8.count
        var lineHasEncodedWord = false
        for word in words {
            let length = word.utf8.count
            let isEncoded = word.hasPrefix("=?")
            let limit = lineHasEncodedWord || isEncoded ? maxEncodedLineLength : maxLineLength
            if !word.isEmpty, lineLength + 1 + length > limit, lineLength > name.utf8.count + 1 {
                output += "\r\n " + word
                lineLength = 1 + length
                lineHasEncodedWord = isEncoded
            } else {
                output += " " + word
                lineLength += 1 + length
                lineHasEncodedWord = lineHasEncodedWord || isEncoded
            }
        }
        return output
    }
}
