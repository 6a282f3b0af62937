import Foundation

/// A config file for a settings table, in the format deploy/postdesk.conf.example shows:
///
///     # a comment: a line whose first non-blank character is #
///     poll-seconds = 30
///     admin-group = support
///
/// One `key = value` a line; the key is a setting's long option name (without `--`); blanks around key and value are
/// dropped, the rest of the value is taken as it is (no quotes, no escapes, a `#` inside it is part of it); an empty
/// value unsets a setting that has no default value. A key that is no setting's, a key given twice and a line without
/// `=` are errors naming the line: no typo is ignored. Reading is one pass over the text.
struct ConfigFile<Setting: SettingTable>: Sendable {
    /// A value the file sets, with its line number (from 1).
    struct Entry: Sendable, Equatable {
        var value: String
        var line: Int
    }

    var path: String
    var entries: [Setting: Entry]

    /// Reads `text` as the content of the file at `path` (which only names it in errors).
    init(path: String, text: String) throws(SettingsError) {
        self.path = path
        var entries: [Setting: Entry] = [:]
        var problems: [SettingsError.Problem] = []
        let names = Dictionary(uniqueKeysWithValues: Setting.allCases.map { ($0.rawValue, $0) })
        var number = 0
        // "\r\n" is one Character in Swift: both line ends are separators.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            number += 1
            let content = line.trimmingCharacters(in: .whitespaces)
            if content.isEmpty || content.hasPrefix("#") { continue }
            guard let equals = content.firstIndex(of: "=") else {
                problems.append(
                    .init(
                        code: .malformedLine,
                        message: "\(path):\(number): not a `key = value` line: \(LogLine.escapedText(content))"))
                continue
            }
            let key = content[..<equals].trimmingCharacters(in: .whitespaces)
            let value = content[content.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard let setting = names[key] else {
                let hint = Self.closestName(to: key).map { " (did you mean \($0)?)" } ?? ""
                problems.append(
                    .init(
                        code: .unknownKey,
                        message: "\(path):\(number): unknown setting \"\(LogLine.escapedText(key))\"\(hint)"))
                continue
            }
            if let earlier = entries[setting] {
                problems.append(
                    .init(
                        code: .duplicateKey,
                        message: "\(path):\(number): \(key) is set again (first on line \(earlier.line))"))
                continue
            }
            entries[setting] = Entry(value: value, line: number)
        }
        guard problems.isEmpty else { throw SettingsError(problems: problems) }
        self.entries = entries
    }

    /// Reads the file at `path`.
    static func read(path: String) throws(SettingsError) -> ConfigFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SettingsError(problems: [
                .init(
                    code: .unreadableFile, message: "cannot read the config file \(path): \(error.localizedDescription)"
                )
            ])
        }
        return try ConfigFile(path: path, text: text)
    }

    /// The setting name within two edits of `key`, if one is (a typo's likely meaning).
    static func closestName(to key: String) -> String? {
        // Edit distance is quadratic in the key's length: only short keys get a suggestion.
        guard key.count <= 64 else { return nil }
        let typed = Array(key)
        var best: (name: String, distance: Int)?
        for setting in Setting.allCases {
            let distance = editDistance(typed, Array(setting.rawValue))
            if distance <= 2, distance < (best?.distance ?? .max) { best = (setting.rawValue, distance) }
        }
        return best?.name
    }

    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
