import ArgumentParser
import Entente
import Foundation

/// Options every command takes.
struct NodeOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("The node directory (default: $ENTENTE_DIR, else ./.entente).", valueName: "DIR")
    )
    var dir: String?

    var directory: URL {
        URL(fileURLWithPath: dir ?? ProcessInfo.processInfo.environment["ENTENTE_DIR"] ?? ".entente")
    }

    func open() throws -> Node {
        try Node.open(at: directory, options: Node.Options(passphrase: try Passphrase.forOpening(directory)))
    }
}

/// A `KEY=VALUE` or `KEY:TYPE=VALUE` argument.
///
/// Types: `string` (the default), `int`, `decimal`, `money` (`1250000.00 USD`), `bool`, `date` (`2027-03-31`),
/// `time` (`2027-03-31T09:30:00Z`), `enum`, `ref` (an object id).
struct Assignment: ExpressibleByArgument {
    let name: String
    let type: String?
    let raw: String

    static let types = ["string", "int", "decimal", "money", "bool", "date", "time", "enum", "ref"]

    init?(argument: String) {
        guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else { return nil }
        let key = argument[..<equals]
        if let colon = key.firstIndex(of: ":") {
            name = String(key[..<colon])
            type = String(key[key.index(after: colon)...])
        } else {
            name = String(key)
            type = nil
        }
        raw = String(argument[argument.index(after: equals)...])
    }

    static var defaultCompletionKind: CompletionKind { .default }

    /// The typed value, or an error naming the field and the expected format.
    func field() throws -> FieldValue {
        func bad(_ expected: String) -> EntenteError {
            EntenteError(
                .invalidArgument,
                "'\(raw)' is not a valid \(type ?? "string") for field '\(name)': expected \(expected)"
            )
        }
        let value: Value
        switch type ?? "string" {
        case "string": value = .string(raw)
        case "int", "integer":
            guard let number = Int64(raw) else { throw bad("a whole number") }
            value = .integer(number)
        case "decimal":
            guard let number = DecimalNumber(raw) else { throw bad("a decimal number such as 1234.50") }
            value = .decimal(number)
        case "money":
            guard let money = Money(raw) else {
                throw bad("an amount and an ISO 4217 currency, such as '1250000.00 USD'")
            }
            value = .money(money)
        case "bool", "boolean":
            guard let flag = ["true": true, "false": false, "yes": true, "no": false][raw.lowercased()] else {
                throw bad("true or false")
            }
            value = .boolean(flag)
        case "date":
            guard let date = CalendarDate(raw) else { throw bad("a date such as 2027-03-31") }
            value = .date(date)
        case "time", "timestamp":
            guard let milliseconds = CalendarDate.parseISO8601(raw) else {
                throw bad("a UTC time such as 2027-03-31T09:30:00Z")
            }
            value = .timestamp(milliseconds)
        case "enum": value = .enumeration(raw)
        case "ref":
            guard let object = ObjectID(hex: raw) else { throw bad("an object id of 32 hex digits") }
            value = .reference(object)
        case let other:
            throw EntenteError(
                .invalidArgument,
                "unknown type '\(other)' for field '\(name)'; use one of: \(Assignment.types.joined(separator: ", "))"
            )
        }
        return FieldValue(name, value)
    }
}

enum Output {
    static func print(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data(("error: " + text + "\n").utf8))
    }

    static func progress(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// Runs a command body, printing an `EntenteError` as one clear line and exiting with status 1.
func guarded(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as EntenteError {
        Output.error(error.message)
        throw ExitCode(1)
    }
}

func readFile(_ path: String, what: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw EntenteError(.notFound, "cannot read \(what) file \(path)")
    }
    return [UInt8](data)
}

func writeFile(_ bytes: [UInt8], to path: String, what: String) throws {
    do { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
        throw EntenteError(.invalidArgument, "cannot write \(what) to \(path): \(error.localizedDescription)")
    }
}
