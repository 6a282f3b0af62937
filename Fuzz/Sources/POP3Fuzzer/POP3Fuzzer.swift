// The libFuzzer entry point for the POP3 client's reading side: POP3ResponseDecoder in single-line and multi-line
// modes, and everything that reads a decoded response. Built like MailParserFuzzer; see scripts/fuzz.sh.
//
// Input format: the first byte says which answers are multi-line (bit i % 8 for the i-th answer: 1 = multi-line, as
// after CAPA, LIST, UIDL, RETR or TOP); the rest is the server's byte stream.
import FuzzSupport
import NIOCore

@testable import MailClients

/// The production limits, and tight ones, so that every limit is reachable within libFuzzer's `-max_len`.
let pop3LimitSets: [(statusLine: Int, body: Int)] = [(4096, 64 << 20), (64, 512)]

/// The shapes announced for the answers in `wire`: one per line it could hold, so the queue never runs dry before the
/// server's bytes do.
func pop3Shapes(header: UInt8, wire: ArraySlice<UInt8>) -> [POP3ResponseDecoder.Shape] {
    let answers = wire.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
    return (0..<answers).map { (header >> UInt8($0 % 8)) & 1 == 1 ? .multiLine : .singleLine }
}

/// Reads everything a client reads from a response: the status line, the response code, the APOP timestamp, and for
/// a body its lines, CAPA tags, LIST/STAT numbers and UIDL entries.
func readPOP3Response(_ response: POP3Response) {
    _ = response.description
    _ = response.responseCode
    _ = response.apopTimestamp
    _ = POP3Response.responseCode(in: response.statusLine)
    _ = try? POP3Listing.parseNumberAndSize(response.text, what: "STAT")
    guard let body = response.body else { return }
    let capabilities = POP3Capabilities.parse(capaBody: body)
    _ = (capabilities.saslMechanisms, capabilities.loginDelaySeconds, capabilities.implementation)
    for line in POP3Listing.lines(of: body) {
        _ = try? POP3Listing.parseNumberAndSize(line, what: "LIST")
        _ = try? POP3Listing.parseUniqueID(line)
    }
}

/// The wire form of a decoded response: its status line and, for a body, the body dot-stuffed and terminated.
func pop3Wire(_ response: POP3Response) -> [UInt8] {
    var wire = Array(response.statusLine.utf8) + [13, 10]
    guard let body = response.body else { return wire }
    var atLineStart = true
    var previous: UInt8 = 0
    for byte in body {
        if atLineStart && byte == UInt8(ascii: ".") { wire.append(byte) }
        wire.append(byte)
        atLineStart = previous == 13 && byte == 10
        previous = byte
    }
    return wire + Array(".\r\n".utf8)
}

/// Feeds `wire` through a decoder in every read pattern and checks that the result does not depend on how the bytes
/// arrived, that bodies stay within the limit, that only documented `MailClientError`s come out, and that a decoded
/// response, written back out, decodes to itself.
func checkPOP3Stream(
    _ wire: ArraySlice<UInt8>, shapes: [POP3ResponseDecoder.Shape], limits: (statusLine: Int, body: Int)
) {
    let input = Array(wire)
    var first: (responses: [POP3Response], error: MailClientError.Code?, leftover: Int)?
    for pattern in fuzzReadPatterns {
        var decoder = POP3ResponseDecoder(
            expecting: shapes, maximumStatusLineLength: limits.statusLine, maximumBodySize: limits.body)
        let outcome = feed(input, chunkSize: pattern.chunkSize, compact: pattern.compact, into: &decoder)
        var errorCode: MailClientError.Code?
        if let error = outcome.error {
            guard let error = error as? MailClientError else {
                fuzzCheck(false, "POP3 decoder threw a foreign error \(error)")
                return
            }
            fuzzCheck(
                [.protocolViolation, .responseTooLarge, .connectionClosed].contains(error.code),
                "POP3 decoder threw \(error.code)"
            )
            _ = error.description
            errorCode = error.code
        }
        for response in outcome.messages {
            fuzzCheck((response.body?.count ?? 0) <= limits.body, "a body is over maximumBodySize")
            readPOP3Response(response)
        }
        if let first {
            fuzzCheck(
                first.responses == outcome.messages && first.error == errorCode
                    && (errorCode != nil || first.leftover == outcome.leftover),
                "reads of \(pattern.chunkSize) bytes give \(outcome.messages.count) responses, error"
                    + " \(String(describing: errorCode)); the whole input gives \(first.responses.count) responses,"
                    + " error \(String(describing: first.error))"
            )
        } else {
            first = (outcome.messages, errorCode, outcome.leftover)
            for response in outcome.messages {
                // Roomy limits: invalid UTF-8 in the text comes back as U+FFFD, three bytes for one.
                var again = POP3ResponseDecoder(
                    expecting: [response.body == nil ? .singleLine : .multiLine],
                    maximumStatusLineLength: 1 << 40, maximumBodySize: 1 << 40)
                let echo = feed(pop3Wire(response), chunkSize: Int.max, into: &again)
                fuzzCheck(
                    echo.error == nil && echo.messages == [response],
                    "\(response) written back out decodes to \(echo.messages), error \(String(describing: echo.error))"
                )
            }
        }
    }
}

/// Feeds one fuzzer input (a shape byte, then the server's bytes) through the decoder with production and tight
/// limits. Any trap, sanitizer report or broken invariant is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func pop3FuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 1 else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    let wire = Array(input.dropFirst())[...]
    let shapes = pop3Shapes(header: input[0], wire: wire)
    for limits in pop3LimitSets {
        checkPOP3Stream(wire, shapes: shapes, limits: limits)
    }
    return 0
}

/// The program's entry point (`main` is an alias for it): hands the command line to libFuzzer.
@_cdecl("POP3Fuzzer_main")
public func pop3FuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzerDriver(argc, argv, pop3FuzzTestOneInput)
}
