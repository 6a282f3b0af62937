// The libFuzzer entry point for the IMAP client's reading side: every input is a server byte stream, cut into frames by
// IMAPFrameDecoder, and every frame is parsed by IMAPResponseParser. Built like MailParserFuzzer; see scripts/fuzz.sh.
import FuzzSupport
import NIOCore

@testable import MailClients

/// The production limits, and tight ones, so that every limit is reachable within libFuzzer's `-max_len`.
let imapLimitSets: [IMAPFrameLimits] = [
    IMAPFrameLimits(),
    IMAPFrameLimits(maxLineLength: 200, maxLiteralSize: 1000, maxLiteralsPerFrame: 3, maxFrameSize: 2000),
]

/// One frame and what the parser made of it: the response, or the error code.
struct ParsedFrame: Equatable {
    var bytes: [UInt8]
    var response: IMAPResponse?
    var errorCode: MailClientError.Code?
}

/// Parses one frame; a parser error must be a `MailClientError(.protocolViolation)`.
func parseFrame(_ frame: IMAPFrame) -> ParsedFrame {
    do {
        let response = try IMAPResponseParser.parse(frame)
        _ = response.logDescription
        return ParsedFrame(bytes: frame.bytes, response: response)
    } catch let error as MailClientError {
        fuzzCheck(error.code == .protocolViolation, "parser threw \(error.code), not protocolViolation")
        _ = error.description
        return ParsedFrame(bytes: frame.bytes, errorCode: error.code)
    } catch {
        fuzzCheck(false, "parser threw a foreign error \(error)")
        return ParsedFrame(bytes: frame.bytes)
    }
}

/// Feeds `input` through a frame decoder with `limits` in every read pattern, parses every frame, and checks that the
/// result does not depend on how the bytes arrived, that frames are exactly the bytes received, and that only
/// `MailClientError`s with the codes the layers document come out.
func checkIMAPStream(_ input: [UInt8], limits: IMAPFrameLimits) {
    var first: (frames: [ParsedFrame], error: MailClientError.Code?, leftover: Int)?
    for pattern in fuzzReadPatterns {
        var decoder = IMAPFrameDecoder(limits: limits)
        let outcome = feed(input, chunkSize: pattern.chunkSize, compact: pattern.compact, into: &decoder)
        var errorCode: MailClientError.Code?
        if let error = outcome.error {
            guard let error = error as? MailClientError else {
                fuzzCheck(false, "frame decoder threw a foreign error \(error)")
                return
            }
            fuzzCheck(error.code == .responseTooLarge, "frame decoder threw \(error.code), not responseTooLarge")
            errorCode = error.code
        }
        let framed = outcome.messages.flatMap(\.bytes)
        fuzzCheck(framed.count + outcome.leftover == input.count, "frames and leftover do not add up to the input")
        fuzzCheck(framed[...] == input[..<framed.count], "frames are not the bytes received, in order")
        for frame in outcome.messages {
            fuzzCheck(frame.bytes.suffix(2) == [13, 10], "a frame does not end in CRLF")
            fuzzCheck(frame.bytes.count <= limits.maxFrameSize, "a frame is over maxFrameSize")
        }
        let parsed = outcome.messages.map(parseFrame)
        if let first {
            fuzzCheck(
                first.frames == parsed && first.error == errorCode
                    && (errorCode != nil || first.leftover == outcome.leftover),
                "reads of \(pattern.chunkSize) bytes give \(parsed.count) frames, error"
                    + " \(String(describing: errorCode)), leftover \(outcome.leftover); the whole input gives"
                    + " \(first.frames.count) frames, error"
                    + " \(String(describing: first.error)), leftover \(first.leftover)"
            )
        } else {
            first = (parsed, errorCode, outcome.leftover)
        }
    }
}

/// Feeds one fuzzer input, as a server byte stream, through the frame decoder and parser with production and tight
/// limits. Any trap, sanitizer report or broken invariant is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func imapFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    for limits in imapLimitSets {
        checkIMAPStream(input, limits: limits)
    }
    return 0
}

/// The program's entry point (`main` is an alias for it): hands the command line to libFuzzer.
@_cdecl("IMAPFuzzer_main")
public func imapFuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzerDriver(argc, argv, imapFuzzTestOneInput)
}
