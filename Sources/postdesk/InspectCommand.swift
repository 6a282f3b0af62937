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
        let inspection = MailInspector.inspect([UInt8](data))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            do {
                printJSON(try encoder.encode(inspection))
            } catch {
                printError("cannot encode the inspection: \(error)")
                throw ExitCode.failure
            }
        } else {
            print(inspection.renderText())
        }
    }
}
