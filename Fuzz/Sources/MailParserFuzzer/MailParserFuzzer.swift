// The libFuzzer entry point: every input goes through the parser and everything that reads a parsed mail.
// Built with `-sanitize=fuzzer,address -parse-as-library` (libFuzzer supplies `main`); see scripts/fuzz.sh.
import MailMessage

/// Feeds one fuzzer input to `MailParser.parse`, `MailInspector.inspect`, `AutoReplyClassifier.classify`,
/// `SubjectNormalizer.summary` and `QuoteStripper.strip`. Any trap or sanitizer report is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func mailParserFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let raw = Array(UnsafeBufferPointer(start: data, count: size))

    let mail = MailParser.parse(raw)
    _ = AutoReplyClassifier.classify(mail)
    _ = SubjectNormalizer.summary(from: mail.subject)
    _ = QuoteStripper.strip(mail.text)
    _ = QuoteStripper.strip(mail.replyText)
    _ = MailInspector.inspect(mail)

    // The same bytes read directly as text: subjects and bodies reach these functions from other paths too.
    let text = String(decoding: raw, as: UTF8.self)
    _ = SubjectNormalizer.summary(from: text)
    _ = QuoteStripper.strip(text)

    // With small parsing limits, the depth and size cut-offs are exercised as well.
    _ = MailParser.parse(raw, options: MailParser.Options(maxAttachmentBytes: 64, maxDepth: 2))
    return 0
}

// SwiftPM links every executable on Linux with `--defsym main=<Module>_main` (so that tests can link the executable
// module), and `-parse-as-library` means Swift emits no such function: give it one that starts libFuzzer's driver,
// which is what libFuzzer's own `main` would do.
@_silgen_name("LLVMFuzzerRunDriver")
private func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The program's entry point (`main` is an alias for it): hands the command line to libFuzzer.
@_cdecl("MailParserFuzzer_main")
public func mailParserFuzzerMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    var argc = argc
    var argv = argv
    return llvmFuzzerRunDriver(&argc, &argv, mailParserFuzzTestOneInput)
}
