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
        let reader = Reader(text)
        let lines = reader.lines
        var cut = lines.count
        var verbatimFrom = lines.count
        var removed = Set<Int>()
        var index = 0
        scan: while index < lines.count {
            let line = lines[index]
            if line.isQuoted || line.isBlank {
                // A blank line is none of the markers below (each needs text) and starts no attribution.
                index += 1
                continue
            }
            if reader.isForwardMarker(line) {
                // A message forwarded inside the reply is content the writer chose to send: keep it as it is.
                verbatimFrom = index
                break scan
            }
            if reader.isReplyMarker(line) || reader.isOriginalSeparator(line) || reader.isSignatureDelimiter(line)
                || reader.isMobileSignOff(line) || reader.isOutlookHeaderBlock(at: index)
            {
                cut = index
                break scan
            }
            if let span = reader.attributionSpan(at: index) {
                var next = index + span
                while next < lines.count, lines[next].isBlank { next += 1 }
                if next == lines.count || lines[next].isQuoted {
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
        while end > 0, lines[end - 1].isBlank { end -= 1 }
        if end > 0, cut < lines.count, isRule(reader.string(lines[end - 1].trimmed)) { end -= 1 }
        // The kept lines joined with LF, trailing spaces and tabs cut, runs of blank lines made one.
        var output: [UInt8] = []
        var lastWasBlank = false
        for position in 0..<end
        where !removed.contains(position) && (position >= verbatimFrom || !lines[position].isQuoted) {
            let line = lines[position]
            if line.isBlank {
                if lastWasBlank { continue }
                output.append(0x0A)
                lastWasBlank = true
            } else {
                var lineEnd = line.text.upperBound
                while lineEnd > line.text.lowerBound,
                    reader.original[lineEnd - 1] == 0x20 || reader.original[lineEnd - 1] == 0x09
                {
                    lineEnd -= 1
                }
                output.append(contentsOf: reader.original[line.text.lowerBound..<lineEnd])
                output.append(0x0A)
                lastWasBlank = false
            }
        }
        let first = output.firstIndex { !$0.isASCIIWhitespace } ?? output.endIndex
        let last = output.lastIndex { !$0.isASCIIWhitespace }.map { $0 + 1 } ?? first
        return String(decoding: output[first..<max(first, last)], as: UTF8.self)
    }

    /// The lines of `text`; CRLF, CR and LF each end a line.
    static func splitLines(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        return lineRanges(bytes).map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    /// The byte ranges of the lines of `bytes`, without their line ends; CRLF, CR and LF each end a line.
    static func lineRanges(_ bytes: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var lineStart = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0A || byte == 0x0D {
                ranges.append(lineStart..<index)
                index += byte == 0x0D && index + 1 < bytes.count && bytes[index + 1] == 0x0A ? 2 : 1
                lineStart = index
                continue
            }
            index += 1
        }
        ranges.append(lineStart..<bytes.count)
        return ranges
    }

    /// One line: byte ranges into the text and into its lower-cased copy.
    struct Line {
        /// The line as written, in `Reader.original`.
        var text: Range<Int>
        /// The line without leading and trailing ASCII whitespace, in `Reader.original`.
        var trimmed: Range<Int>
        /// The trimmed line lower-cased, in `Reader.lower`.
        var lower: Range<Int>
        /// Quoted with ">" or "＞" (RFC 3676 §4.5) after leading spaces and tabs.
        var isQuoted: Bool

        var isBlank: Bool { trimmed.isEmpty }
    }

    /// The text as UTF-8 bytes, lower-cased once, split into lines; every test below reads bytes.
    ///
    /// Lower-casing maps each scalar on its own and never makes or removes a line end or ASCII whitespace, so the
    /// lines of the lower-cased copy are the lower-cased lines, trimmed alike.
    struct Reader {
        let original: [UInt8]
        let lower: [UInt8]
        let lines: [Line]

        init(_ text: String) {
            original = Array(text.utf8)
            lower = original.mailLowercasedUTF8()
            let originalLines = QuoteStripper.lineRanges(original)
            let lowerLines = QuoteStripper.lineRanges(lower)
            var lines: [Line] = []
            lines.reserveCapacity(originalLines.count)
            for (text, lowerText) in zip(originalLines, lowerLines) {
                let trimmed = Self.trim(original, text)
                let lowerTrimmed = Self.trim(lower, lowerText)
                var first = text.lowerBound
                while first < text.upperBound, original[first] == 0x20 || original[first] == 0x09 { first += 1 }
                let quoted =
                    first < text.upperBound
                    && (original[first] == UInt8(ascii: ">")
                        || original[first..<text.upperBound].starts(with: Self.fullwidthGreater))
                lines.append(Line(text: text, trimmed: trimmed, lower: lowerTrimmed, isQuoted: quoted))
            }
            self.lines = lines
        }

        /// "＞" (U+FF1E) in UTF-8.
        static let fullwidthGreater: [UInt8] = [0xEF, 0xBC, 0x9E]

        private static func trim(_ bytes: [UInt8], _ range: Range<Int>) -> Range<Int> {
            var start = range.lowerBound
            var end = range.upperBound
            while start < end, bytes[start].isASCIIWhitespace { start += 1 }
            while end > start, bytes[end - 1].isASCIIWhitespace { end -= 1 }
            return start..<end
        }

        func string(_ range: Range<Int>) -> String {
            String(decoding: original[range], as: UTF8.self)
        }

        func lowerBytes(_ line: Line) -> ArraySlice<UInt8> {
            lower[line.lower]
        }

        /// Our own "##- Please type your reply above this line -##" marker (or any "##-…-##" line).
        func isReplyMarker(_ line: Line) -> Bool {
            let bytes = lowerBytes(line)
            return bytes.contains(QuoteStripper.replyMarkerPhrase)
                || (bytes.starts(with: Array("##-".utf8)) && bytes.hasSuffix(Array("-##".utf8)))
        }

        /// "-----Original Message-----" and translations, with any number of dashes (two or more).
        func isOriginalSeparator(_ line: Line) -> Bool {
            lowerBytes(line).starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")])
                && isPhrase(line, in: QuoteStripper.separatorPhraseBytes)
        }

        /// "---------- Forwarded message ----------", "Begin forwarded message:" and their translations.
        func isForwardMarker(_ line: Line) -> Bool {
            isPhrase(line, in: QuoteStripper.forwardPhraseBytes)
        }

        /// Whether the lower-cased line without leading and trailing "-" and " " is one of `phrases`.
        private func isPhrase(_ line: Line, in phrases: [[UInt8]]) -> Bool {
            let bytes = lowerBytes(line)
            guard let first = bytes.firstIndex(where: { $0 != UInt8(ascii: "-") && $0 != 0x20 }),
                let last = bytes.lastIndex(where: { $0 != UInt8(ascii: "-") && $0 != 0x20 })
            else { return false }
            let inner = bytes[first...last]
            return phrases.contains { $0.count == inner.count && $0.elementsEqual(inner) }
        }

        /// "-- " alone on a line (RFC 3676 §4.3); also "--", since many clients strip the trailing space.
        func isSignatureDelimiter(_ line: Line) -> Bool {
            let bytes = original[line.text]
            return QuoteStripper.signatureDelimiters.contains { $0.count == bytes.count && $0.elementsEqual(bytes) }
        }

        /// A mobile client's sign-off line ("Sent from my iPhone", "iPhoneから送信"), at most 60 characters.
        func isMobileSignOff(_ line: Line) -> Bool {
            let lower = lowerBytes(line)
            // The phrase tests are byte comparisons; the character count, which needs a String, comes last.
            if QuoteStripper.signOffPrefixBytes.contains(where: { lower.starts(with: $0) }) {
                guard string(line.trimmed).count <= 60 else { return false }
                if lower.starts(with: Array("von meinem".utf8)) { return lower.hasSuffix(Array("gesendet".utf8)) }
                return true
            }
            // Japanese: "iPhoneから送信", "Android から送信", "Outlook for iOS から送信".
            if lower.hasSuffix(QuoteStripper.sentFromJapanese) || lower.hasSuffix(QuoteStripper.sentFromJapaneseLong) {
                return string(line.trimmed).count <= 40
            }
            return false
        }

        /// Whether the line starts with one of `prefixes` (all ending in ":" or "："), "*" before it allowed.
        private func headerLine(_ line: Line, _ prefixes: [[UInt8]]) -> Bool {
            // Quoted lines start with ">", which no prefix does; most lines have no colon at all.
            guard !line.isQuoted else { return false }
            let bytes = lowerBytes(line)
            guard bytes.contains(UInt8(ascii: ":")) || bytes.contains(0x9A) else { return false }
            let start = bytes.firstIndex { $0 != UInt8(ascii: "*") } ?? bytes.endIndex
            let rest = bytes[start...]
            return prefixes.contains { rest.starts(with: $0) }
        }

        /// "From: …" followed within six lines by a date line or by two other header lines (Outlook's reply header),
        /// with an address on the From line or a Subject line in the block.
        func isOutlookHeaderBlock(at index: Int) -> Bool {
            guard headerLine(lines[index], QuoteStripper.fromPrefixBytes) else { return false }
            var dates = 0
            var others = 0
            var subjects = 0
            var position = index + 1
            while position < lines.count, position <= index + 6 {
                if headerLine(lines[position], QuoteStripper.dateLinePrefixBytes) { dates += 1 }
                if headerLine(lines[position], QuoteStripper.otherHeaderPrefixBytes) { others += 1 }
                if headerLine(lines[position], QuoteStripper.subjectPrefixBytes) { subjects += 1 }
                position += 1
            }
            guard dates >= 1 || others >= 2 else { return false }
            // "From: Berlin / To: Munich / Date: Monday" in a travel request is not a reply header: a real one names
            // an address or carries a subject line.
            let from = lowerBytes(lines[index])
            return from.contains(UInt8(ascii: "@")) || from.contains(Array("mailto:".utf8)) || subjects > 0
        }

        /// The number of lines (1–3) of an attribution line starting at `index`, or nil.
        func attributionSpan(at index: Int) -> Int? {
            var parts: [Range<Int>] = []
            for span in 1...3 where index + span - 1 < lines.count {
                let line = lines[index + span - 1]
                if line.isBlank || original[line.trimmed].first == UInt8(ascii: ">")
                    || original[line.trimmed].starts(with: Self.fullwidthGreater)
                {
                    return nil
                }
                parts.append(line.trimmed)
                // An attribution ends in ":" (3A) or "：" (EF BC 9A): only then is the joined text worth building.
                if let last = original[line.trimmed].last, last == 0x3A || last == 0x9A {
                    let joined = parts.map { string($0) }.joined(separator: " ")
                    if QuoteStripper.isAttribution(joined, multiLine: span > 1) { return span }
                }
                if span == 1 && !startsLikeAttribution(line) { return nil }
            }
            return nil
        }

        private func startsLikeAttribution(_ line: Line) -> Bool {
            let lower = lowerBytes(line)
            if QuoteStripper.attributionStartBytes.contains(where: { lower.starts(with: $0) }) { return true }
            // Four ASCII digits first, or it cannot start with a year.
            let trimmed = original[line.trimmed]
            guard trimmed.count >= 5, trimmed.prefix(4).allSatisfy({ (0x30...0x39).contains($0) }) else { return false }
            return QuoteStripper.startsWithYear(string(line.trimmed))
        }
    }

    private static func bytes(_ phrases: [String]) -> [[UInt8]] {
        phrases.map { Array($0.utf8) }
    }

    private static let replyMarkerPhrase = Array("please type your reply above this line".utf8)
    private static let signatureDelimiters = bytes(["-- ", "--", "-- \u{00A0}", "--\u{00A0}"])
    private static let sentFromJapanese = Array("から送信".utf8)
    private static let sentFromJapaneseLong = Array("から送信しました".utf8)
    private static let separatorPhraseBytes = bytes(separatorPhrases)
    private static let forwardPhraseBytes = bytes(forwardPhrases)
    private static let signOffPrefixBytes = bytes(signOffPrefixes)
    private static let fromPrefixBytes = bytes(fromPrefixes)
    private static let dateLinePrefixBytes = bytes(dateLinePrefixes)
    private static let otherHeaderPrefixBytes = bytes(otherHeaderPrefixes)
    private static let subjectPrefixBytes = bytes(subjectPrefixes)
    private static let attributionStartBytes = bytes(attributionStarts)

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

    private static let forwardPhrases = [
        "forwarded message", "begin forwarded message:", "weitergeleitete nachricht", "message transféré",
        "mensaje reenviado", "messaggio inoltrato", "doorgestuurd bericht", "vidarebefordrat meddelande",
        "mensagem encaminhada", "転送されたメッセージ", "転送メッセージ", "转发的邮件", "轉寄的郵件", "forwarded message:",
    ]

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

    private static let subjectPrefixes = [
        "subject:", "betreff:", "objet :", "objet:", "件名:", "件名：", "主题:", "主題:", "asunto:", "oggetto:", "onderwerp:",
        "ämne:", "emne:", "temat:", "тема:", "assunto:", "konu:",
    ]

    private static let attributionStarts = [
        "on ", "am ", "le ", "el ", "il ", "em ", "op ", "den ", "w dniu ", "dnia ", "в ", "el día ",
    ]

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
