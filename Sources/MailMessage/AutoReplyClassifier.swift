/// Decides whether a mail is automatic, so that auto-replies, bounces and loops never become requests or comments.
public enum AutoReplyClassifier {
    /// Checks, in this order, and names the deciding header:
    /// 1. `X-Postdesk-Loop` present, or a Message-ID starting with "postdesk." (our own notification came back);
    /// 2. `Auto-Submitted` with any value but "no" (RFC 3834 §5);
    /// 3. `Content-Type: multipart/report` (RFC 6522, delivery reports of RFC 3464);
    /// 4. `Return-Path: <>` (the null reverse-path of bounces, RFC 5321 §4.5.5);
    /// 5. From a MAILER-DAEMON or postmaster local part;
    /// 6. `Precedence: bulk`, `junk` or `list` (RFC 3834 §3.1.8 advises not to answer these);
    /// 7. `X-Autoreply`, `X-Autorespond`;
    /// 8. `X-Auto-Response-Suppress`.
    public static func classify(_ mail: ParsedMail) -> AutoReplyVerdict {
        let headers = mail.headers
        if headers["X-Postdesk-Loop"] != nil {
            return automatic("X-Postdesk-Loop", "our own notification came back (X-Postdesk-Loop)")
        }
        if let id = mail.messageID, id.lowercased().hasPrefix("postdesk.") {
            return automatic("Message-ID", "our own notification came back (Message-ID \(id.prefix(80)))")
        }
        if let value = headers["Auto-Submitted"] {
            let keyword = firstToken(value)
            if keyword != "no" {
                return automatic(
                    "Auto-Submitted", "Auto-Submitted: \(keyword.isEmpty ? "(empty)" : keyword) (RFC 3834)")
            }
        }
        if let value = headers["Content-Type"] {
            var scratch: [String] = []
            let type = MIMEHeaderValue(value, notes: &scratch)
            if type.value == "multipart/report" {
                let kind = type.parameters["report-type"].map { " (\($0))" } ?? ""
                return automatic("Content-Type", "a delivery or disposition report: multipart/report\(kind)")
            }
        }
        if mail.returnPath == "" {
            return automatic("Return-Path", "empty return path <>: a bounce or other automatic message")
        }
        if let from = mail.from.first {
            let local = from.localPart.lowercased()
            if local == "mailer-daemon" || local == "postmaster" {
                return automatic("From", "sent by \(from.localPart)")
            }
        }
        if let value = headers["Precedence"] {
            let keyword = firstToken(value)
            if keyword == "bulk" || keyword == "junk" || keyword == "list" {
                return automatic("Precedence", "Precedence: \(keyword)")
            }
        }
        if headers["X-Autoreply"] != nil {
            return automatic("X-Autoreply", "X-Autoreply header present")
        }
        if headers["X-Autorespond"] != nil {
            return automatic("X-Autorespond", "X-Autorespond header present")
        }
        if headers["X-Auto-Response-Suppress"] != nil {
            return automatic("X-Auto-Response-Suppress", "X-Auto-Response-Suppress header present")
        }
        return .human
    }

    private static func automatic(_ header: String, _ reason: String) -> AutoReplyVerdict {
        AutoReplyVerdict(isAutomatic: true, header: header, reason: reason)
    }

    /// The first word of a header value, lowercased, without parameters or comments.
    private static func firstToken(_ value: String) -> String {
        var result = ""
        for character in value {
            if character == ";" || character == "(" || character == "," { break }
            if character.isWhitespace {
                if result.isEmpty { continue }
                break
            }
            result.append(character)
        }
        return result.lowercased()
    }
}
