/// Extracts what a person typed in a reply: quoted lines, the quoted original, signatures and mobile sign-offs go.
///
/// Cuts at the first of: our marker line ("##- Please type your reply above this line -##"), an original-message
/// separator ("-----Original Message-----" and its translations), an Outlook header block ("From:/Sent:/To:/
/// Subject:" in English, German, French, Spanish, Japanese, Chinese…), an attribution line ("On … wrote:", "Am …
/// schrieb …:", "Le … a écrit :", "El … escribió:", "… さんは書きました:", "2024年1月2日(火) 10:00 Name <a@b>:")
/// not followed by ">" quotes, the signature delimiter "-- " (RFC 3676 §4.3), or a mobile sign-off ("Sent from my
/// iPhone", "iPhoneから送信"…). Lines quoted with ">" are removed, so answers written between quotes stay. A
/// forwarded message ("---------- Forwarded message ----------", "Begin forwarded message:") and everything after it
/// is kept as it is.
public enum QuoteStripper {
    /// The reply text of `text` (LF line ends), trimmed. Empty when the text holds nothing but quoted material
    /// (a reply with no new words); callers decide what to do then — the full body is in `ParsedMail.text`.
    public static func strip(_ text: String) -> String {
        let lines = splitLines(text)
        var cut = lines.count
        var verbatimFrom = lines.count
        var removed = Set<Int>()
        var index = 0
        scan: while index < lines.count {
            let line = lines[index]
            let trimmed = line.trimmingASCIIWhitespace()
            if isQuoted(line) {
                index += 1
                continue
            }
            if isForwardMarker(trimmed) {
                // A message forwarded inside the reply is content the writer chose to send: keep it as it is.
                verbatimFrom = index
                break scan
            }
            if isReplyMarker(trimmed) || isOriginalSeparator(trimmed) || isSignatureDelimiter(line)
                || isMobileSignOff(trimmed)
            {
                cut = index
                break scan
            }
            if isOutlookHeaderBlock(lines, at: index) {
                cut = index
                break scan
            }
            if let span = attributionSpan(lines, at: index) {
                var next = index + span
                while next < lines.count, lines[next].trimmingASCIIWhitespace().isEmpty { next += 1 }
                if next == lines.count || isQuoted(lines[next]) {
                    for position in index..<(index + span) { removed.insert(position) }
                    index += span
                    continue
                }
                // Not followed by quotes: an ordinary sentence that happens to look like an attribution.
            }
            index += 1
        }
        // A separator line ("____" or "-----") just above the cut belongs to the quoted original.
        var end = cut
        while end > 0, lines[end - 1].trimmingASCIIWhitespace().isEmpty { end -= 1 }
        if end > 0, cut < lines.count, isRule(lines[end - 1].trimmingASCIIWhitespace()) { end -= 1 }
        var kept: [String] = []
        for position in 0..<end
        where !removed.contains(position) && (position >= verbatimFrom || !isQuoted(lines[position])) {
            let line = lines[position]
            if line.trimmingASCIIWhitespace().isEmpty {
                if let last = kept.last, last.isEmpty { continue }
                kept.append("")
            } else {
                kept.append(trailingTrimmed(line))
            }
        }
        return kept.joined(separator: "\n").trimmingASCIIWhitespace()
    }

    /// The lines of `text`; CRLF, CR and LF each end a line.
    static func splitLines(_ text: String) -> [String] {
        var lines: [String] = []
        let utf8 = text.utf8
        var lineStart = utf8.startIndex
        var index = utf8.startIndex
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == 0x0A || byte == 0x0D {
                lines.append(String(decoding: utf8[lineStart..<index], as: UTF8.self))
                var next = utf8.index(after: index)
                if byte == 0x0D, next < utf8.endIndex, utf8[next] == 0x0A { next = utf8.index(after: next) }
                index = next
                lineStart = next
                continue
            }
            index = utf8.index(after: index)
        }
        lines.append(String(decoding: utf8[lineStart..<utf8.endIndex], as: UTF8.self))
        return lines
    }

    private static func trailingTrimmed(_ line: String) -> String {
        var result = Substring(line)
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return String(result)
    }

    /// A line quoted with ">" (RFC 3676 §4.5), also with leading spaces.
    static func isQuoted(_ line: String) -> Bool {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        return trimmed.hasPrefix(">") || trimmed.hasPrefix("＞")
    }

    static func isReplyMarker(_ trimmed: String) -> Bool {
        trimmed.localizedLowercase.contains("please type your reply above this line")
            || (trimmed.hasPrefix("##-") && trimmed.hasSuffix("-##"))
    }

    private static func isRule(_ trimmed: String) -> Bool {
        trimmed.count >= 10
            && (trimmed.allSatisfy { $0 == "_" } || trimmed.allSatisfy { $0 == "-" }
                || trimmed.allSatisfy { $0 == "=" })
    }

    private static let separatorPhrases = [
        "original message", "ursprüngliche nachricht", "originalnachricht", "message d'origine", "message d’origine",
        "mensaje original", "messaggio originale", "oorspronkelijk bericht", "originalmeddelande", "mensagem original",
        "元のメッセージ", "原始邮件", "原始郵件", "wiadomość oryginalna", "исходное сообщение", "alkuperäinen viesti",
        "original meddelelse", "opprinnelig melding", "orijinal mesaj",
    ]

    /// "-----Original Message-----" and translations, with any number of dashes (two or more).
    static func isOriginalSeparator(_ trimmed: String) -> Bool {
        guard trimmed.hasPrefix("--") else { return false }
        let inner = trimmed.trimming(charactersIn: "- ").lowercased()
        return separatorPhrases.contains(inner)
    }

    private static let forwardPhrases = [
        "forwarded message", "begin forwarded message:", "weitergeleitete nachricht", "message transféré",
        "mensaje reenviado", "messaggio inoltrato", "doorgestuurd bericht", "vidarebefordrat meddelande",
        "mensagem encaminhada", "転送されたメッセージ", "転送メッセージ", "转发的邮件", "轉寄的郵件", "forwarded message:",
    ]

    /// "---------- Forwarded message ----------", "Begin forwarded message:" and their translations.
    static func isForwardMarker(_ trimmed: String) -> Bool {
        let inner = trimmed.trimming(charactersIn: "- ").lowercased()
        return forwardPhrases.contains(inner)
    }

    /// "-- " alone on a line (RFC 3676 §4.3); also "--", since many clients strip the trailing space.
    static func isSignatureDelimiter(_ line: String) -> Bool {
        line == "-- " || line == "--" || line == "-- \u{00A0}" || line == "--\u{00A0}"
    }

    private static let signOffPrefixes = [
        "sent from my ", "sent from outlook", "sent from mail for windows", "sent from yahoo mail", "sent from samsung",
        "sent from the all new aol app", "sent from aol", "get outlook for ios", "get outlook for android",
        "sent with blackberry", "sent via the samsung", "sent from proton mail mobile", "sent from gmail mobile",
        "von meinem", "gesendet von meinem", "gesendet mit der", "envoyé de mon", "envoyé depuis mon",
        "envoyé à partir de",
        "enviado desde mi", "enviado do meu", "enviado de meu", "inviato da ", "verzonden vanaf mijn",
        "verstuurd vanaf mijn",
        "skickat från min", "sendt fra min", "wysłane z mojego", "wysłano z mojego", "отправлено с моего",
        "発信元:", "从我的", "發自我的", "发自我的",
    ]

    /// A mobile client's sign-off line.
    static func isMobileSignOff(_ trimmed: String) -> Bool {
        guard !trimmed.isEmpty, trimmed.count <= 60 else { return false }
        let lower = trimmed.lowercased()
        if signOffPrefixes.contains(where: { lower.hasPrefix($0) }) {
            if lower.hasPrefix("von meinem") { return lower.hasSuffix("gesendet") }
            return true
        }
        // Japanese: "iPhoneから送信", "Android から送信", "Outlook for iOS から送信".
        if lower.hasSuffix("から送信") || lower.hasSuffix("から送信しました") { return trimmed.count <= 40 }
        return false
    }

    private static let fromPrefixes = [
        "from:", "von:", "de :", "de:", "差出人:", "差出人 :", "差出人：", "送信者:", "发件人:", "发件人：", "寄件者:", "寄件者：",
        "da:", "van:", "från:", "fra:", "od:", "от:", "lähettäjä:", "kimden:", "feladó:",
    ]
    private static let dateLinePrefixes = [
        "sent:", "date:", "gesendet:", "datum:", "envoyé :", "envoyé:", "date :", "送信日時:", "送信日時：", "送信日:", "日付:",
        "日時:", "enviado:", "enviado el:", "fecha:", "inviato:", "data:", "verzonden:", "skickat:", "sendt:", "wysłano:",
        "отправлено:", "发送时间:", "发送时间：", "寄件日期:", "gönderildi:", "tarih:", "lähetetty:",
    ]
    private static let otherHeaderPrefixes = [
        "to:", "an:", "à :", "à:", "宛先:", "宛先：", "收件人:", "收件人：", "para:", "a:", "aan:", "till:", "til:", "do:",
        "кому:", "subject:", "betreff:", "objet :", "objet:", "件名:", "件名：", "主题:", "主題:", "asunto:", "oggetto:",
        "onderwerp:", "ämne:", "emne:", "temat:", "тема:", "cc:", "cc :",
    ]

    private static func headerLine(_ line: String, _ prefixes: [String]) -> Bool {
        // Every prefix ends in ":" or "：" (U+FF1A, EF BC 9A), which lowercasing neither makes nor removes: most lines
        // have neither and need no lowercasing.
        guard line.utf8.contains(UInt8(ascii: ":")) || line.utf8.contains(0x9A) else { return false }
        let lower = line.trimmingASCIIWhitespace().trimming(charactersIn: "*").lowercased()
        return prefixes.contains { lower.hasPrefix($0) }
    }

    /// "From: …" followed within six lines by a date line or by two other header lines (Outlook's reply header), with
    /// an address on the From line or a Subject line in the block.
    static func isOutlookHeaderBlock(_ lines: [String], at index: Int) -> Bool {
        guard headerLine(lines[index], fromPrefixes) else { return false }
        var dates = 0
        var others = 0
        var subjects = 0
        var position = index + 1
        while position < lines.count, position <= index + 6 {
            if headerLine(lines[position], dateLinePrefixes) { dates += 1 }
            if headerLine(lines[position], otherHeaderPrefixes) { others += 1 }
            if headerLine(lines[position], subjectPrefixes) { subjects += 1 }
            position += 1
        }
        guard dates >= 1 || others >= 2 else { return false }
        // "From: Berlin / To: Munich / Date: Monday" in a travel request is not a reply header: a real one names an
        // address or carries a subject line.
        let from = lines[index].lowercased()
        return from.contains("@") || from.contains("mailto:") || subjects > 0
    }

    private static let subjectPrefixes = [
        "subject:", "betreff:", "objet :", "objet:", "件名:", "件名：", "主题:", "主題:", "asunto:", "oggetto:", "onderwerp:",
        "ämne:", "emne:", "temat:", "тема:", "assunto:", "konu:",
    ]

    /// The number of lines (1–3) of an attribution line starting at `index`, or nil.
    static func attributionSpan(_ lines: [String], at index: Int) -> Int? {
        var joined = ""
        for span in 1...3 where index + span - 1 < lines.count {
            let line = lines[index + span - 1].trimmingASCIIWhitespace()
            if line.isEmpty || isQuoted(line) { return nil }
            joined = joined.isEmpty ? line : joined + " " + line
            if isAttribution(joined, multiLine: span > 1) { return span }
            if span == 1 && !startsLikeAttribution(line) { return nil }
        }
        return nil
    }

    private static let attributionStarts = [
        "on ", "am ", "le ", "el ", "il ", "em ", "op ", "den ", "w dniu ", "dnia ", "в ", "el día ",
    ]

    private static func startsLikeAttribution(_ line: String) -> Bool {
        let lower = line.lowercased()
        if attributionStarts.contains(where: { lower.hasPrefix($0) }) { return true }
        return startsWithYear(line)
    }

    private static func startsWithYear(_ line: String) -> Bool {
        let prefix = line.prefix(5)
        return prefix.prefix(4).allSatisfy { $0.isASCII && $0.isNumber } && prefix.count == 5
            && (prefix.last == "年" || prefix.last == "/" || prefix.last == "-")
    }

    /// Whether `text` (one or more joined lines) is an attribution line such as "On … wrote:".
    static func isAttribution(_ text: String, multiLine: Bool) -> Bool {
        guard let last = text.last, last == ":" || last == "：" else { return false }
        let body = String(text.dropLast()).trimmingASCIIWhitespace()
        let lower = body.lowercased()
        func starts(_ prefix: String) -> Bool { lower.hasPrefix(prefix) }
        if starts("on ") && (lower.hasSuffix("wrote") || lower.hasSuffix("writes") || lower.hasSuffix("said")) {
            return true
        }
        if starts("am ") && lower.contains(" schrieb") { return true }
        if starts("le ") && (lower.hasSuffix("a écrit") || lower.hasSuffix("a ecrit")) { return true }
        if (starts("el ") || starts("el día ")) && lower.hasSuffix("escribió") { return true }
        if starts("il ") && lower.hasSuffix("ha scritto") { return true }
        if starts("em ") && lower.hasSuffix("escreveu") { return true }
        if starts("op ") && lower.contains(" schreef") { return true }
        if starts("den ") && lower.contains(" skrev") { return true }
        if lower.contains("napisał") && (starts("w dniu ") || starts("dnia ") || body.contains("@")) { return true }
        if lower.hasSuffix("yazdı") || body.hasSuffix("작성") { return body.contains("@") || startsWithYear(body) }
        // Localised Gmail ("пт, 20 нояб. 2026 г. в 10:15, Desk <help@desk.test>:"): a date, then "<address>:".
        // Only used when quotes follow, so being generous here cannot cut a reply.
        if body.hasSuffix(">") && body.contains("@") && body.contains(where: \.isNumber) && !multiLine { return true }
        if lower.hasSuffix("написал") || lower.hasSuffix("написал(а)") || lower.hasSuffix("пишет") {
            return starts("в ") || body.contains("@")
        }
        if body.hasSuffix("書きました") || body.hasSuffix("のメッセージ") || body.hasSuffix("のメール") { return true }
        if body.hasSuffix("写道") || body.hasSuffix("寫道") { return true }
        if startsWithYear(body) && (body.contains("@") || body.contains("<")) { return true }
        if !multiLine && lower.hasSuffix(" wrote") && body.contains("@") { return true }
        if startsWithYear(body)
            && (lower.hasSuffix("wrote") || lower.hasSuffix("schrieb") || lower.hasSuffix("a écrit"))
        {
            return true
        }
        return false
    }
}
