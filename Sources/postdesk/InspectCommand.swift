import AdminAPI
import ArgumentParser
import Foundation
import MailMessage

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show how postdesk reads a message file (offline; no server needed).",
        discussion: """
            Prints the sender, recipients, summary, description, the reply text a comment would get, \
            charset decisions, attachments and the auto-reply/bounce verdict with the header that decided.

            Examples:
              postdesk inspect mail.eml
              postdesk inbound show 42 --raw | postdesk inspect - --json
            """)

    @Argument(help: "A message file (.eml), or - for standard input.") var file: String
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() throws {
        let data: Data?
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            data = FileManager.default.contents(atPath: file)
        }
        guard let data else {
            printError("cannot read \(file)")
            throw ExitCode.failure
        }
        // The very reading the server's router uses, so what this shows is what the server does.
        guard let reading = MailInspectionReading(raw: [UInt8](data)) else {
            printError("cannot read \(file)")
            throw ExitCode.failure
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            do {
                printJSON(try encoder.encode(reading.inspection))
            } catch {
                printError("cannot encode the inspection: \(error)")
                throw ExitCode.failure
            }
        } else {
            print(reading.inspection.renderText())
            print(reading.deskText, terminator: "")
        }
    }
}
