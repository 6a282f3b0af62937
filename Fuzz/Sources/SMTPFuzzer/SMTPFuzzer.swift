// The libFuzzer entry point for the SMTP client's reading side: SMTPReplyDecoder and everything that reads a decoded
// reply (enhanced status codes, EHLO capabilities). Built like MailParserFuzzer; see scripts/fuzz.sh.
import FuzzSupport
import NIOCore

@testable import MailClients

/// The production limits, and tight ones, so that every limit is reachable within libFuzzer's `-max_len`.
let smtpLimitSets: [(lineLength: Int, lineCount: Int)] = [(4096, 200), (64, 4)]

/// Reads everything a client reads from a reply: its verbatim text, enhanced status code and, as if it answered EHLO,
/// the capabilities.
func readSMTPReply(_ reply: SMTPReply) {
    _ = reply.verbatim
    _ = reply.enhancedStatusCode?.description
    let capabilities = SMTPCapabilities.parse(ehloReply: reply)
    _ = (capabilities.authenticationMechanisms, capabilities.maximumMessageSize, capabilities.supportsStartTLS)
}

/// The wire form of a decoded reply: one line per text line, `-` after the code on all but the last.
func smtpWire(_ reply: SMTPReply) -> [UInt8] {
    var wire: [UInt8] = []
    for (index, line) in reply.lines.enumerated() {
        wire += Array("\(reply.code)\(index == reply.lines.count - 1 ? " " : "-")\(line)\r\n".utf8)
    }
    return wire
}

/// Feeds `input` through a decoder in every read pattern and checks that the result does not depend on how the bytes
/// arrived, that replies stay within the limits, that only documented `MailClientError`s come out, and that a decoded
/// reply, written back out, decodes to itself.
func checkSMTPStream(_ input: [UInt8], limits: (lineLength: Int, lineCount: Int)) {
    var first: (replies: [SMTPReply], error: MailClientError.Code?, leftover: Int)?
    for pattern in fuzzReadPatterns {
        var decoder = SMTPReplyDecoder(maximumLineLength: limits.lineLength, maximumLineCount: limits.lineCount)
        let outcome = feed(input, chunkSize: pattern.chunkSize, compact: pattern.compact, into: &decoder)
        var errorCode: MailClientError.Code?
        if let error = outcome.error {
            guard let error = error as? MailClientError else {
                fuzzCheck(false, "SMTP decoder threw a foreign error \(error)")
                return
            }
            fuzzCheck(
                [.protocolViolation, .responseTooLarge, .connectionClosed].contains(error.code),
                "SMTP decoder threw \(error.code)"
            )
            _ = error.description
            errorCode = error.code
        }
        for reply in outcome.messages {
            fuzzCheck(reply.lines.count <= limits.lineCount, "a reply has more lines than maximumLineCount")
            fuzzCheck((200...599).contains(reply.code), "reply code \(reply.code) is not 2yz-5yz")
            readSMTPReply(reply)
        }
        if let first {
            fuzzCheck(
                first.replies == outcome.messages && first.error == errorCode
                    && (errorCode != nil || first.leftover == outcome.leftover),
                "reads of \(pattern.chunkSize) bytes give \(outcome.messages.count) replies, error"
                    + " \(String(describing: errorCode)); the whole input gives \(first.replies.count) replies,"
                    + " error \(String(describing: first.error))"
            )
        } else {
            first = (outcome.messages, errorCode, outcome.leftover)
            for reply in outcome.messages {
                // Roomy limits: invalid UTF-8 in the text comes back as U+FFFD, three bytes for one.
                var again = SMTPReplyDecoder(maximumLineLength: 1 << 40, maximumLineCount: 1 << 40)
                let echo = feed(smtpWire(reply), chunkSize: Int.max, into: &again)
                fuzzCheck(
                    echo.error == nil && echo.messages == [reply],
                    "\(reply) written back out decodes to \(echo.messages), error \(String(describing: echo.error))"
                )
            }
        }
    }
}

/// Feeds one fuzzer input, as a server byte stream, through the decoder with production and tight limits. Any trap,
/// sanitizer report or broken invariant is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func smtpFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    for limits in smtpLimitSets {
        checkSMTPStream(input, limits: limits)
    }
    return 0
}

/// The program's entry point (`main` is an alias for it): hands the command line to libFuzzer.
@_cdecl("SMTPFuzzer_main")
public func smtpFuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzerDriver(argc, argv, smtpFuzzTestOneInput)
}
