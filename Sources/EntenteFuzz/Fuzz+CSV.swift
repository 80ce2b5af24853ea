import EntenteCSV

extension Fuzz {
    /// Reads the bytes as CSV (every record, going on after each bad one), then converts them with each
    /// built-in mapping (`generic-pipeline`, `salesforce-opportunity`).
    /// - Returns: true if a built-in mapping converted the file (rows or row errors, but no file-level error).
    public static func csvImport(_ bytes: [UInt8]) -> Bool {
        guard let reader = try? CSVReader(bytes: bytes) else { return false }
        readEveryRecord(reader, limit: bytes.count)
        var accepted = false
        for name in Mapping.builtinNames {
            guard let mapping = Mapping.builtin(named: name), let plan = try? CSVPlan(mapping: mapping) else {
                preconditionFailure("the built-in mapping \(name) does not plan")
            }
            if convert(bytes, with: plan) { accepted = true }
        }
        return accepted
    }

    /// Parses the bytes as a mapping file, checks it against the catalog, and converts a small CSV file in
    /// its own columns with it; a mapping that parses must survive its own JSON form.
    /// - Returns: true if the mapping parsed and planned.
    public static func csvMapping(_ bytes: [UInt8]) -> Bool {
        guard let mapping = try? Mapping(json: bytes) else { return false }
        let again = try? Mapping(json: Array(mapping.json().utf8))
        precondition(again == mapping, "a mapping does not survive its own JSON form")
        guard let plan = try? CSVPlan(mapping: mapping) else { return false }
        let header = plan.exportHeader
        let rows = [
            header.map { CSVWriter.quoted($0) },
            header.indices.map { ["K-1", "2027-03-31", "1,250.50", "USD", "yes", "a;b", "won", ""][$0 % 8] },
            header.indices.map { ["K-2", "3/31/2027", "42", "EUR", "false", "", "Closed Won", "x"][$0 % 8] },
        ]
        let text = rows.map { $0.joined(separator: ",") }.joined(separator: "\r\n")
        _ = convert(Array(text.utf8), with: plan)
        return true
    }

    /// Converts CSV bytes with a plan, collecting rows and errors as an import does.
    static func convert(_ bytes: [UInt8], with plan: CSVPlan) -> Bool {
        guard let reader = try? CSVReader(bytes: bytes) else { return false }
        var rows = 0
        var errors = 0
        let converted = try? plan.convert(reader, onRow: { _ in rows += 1 }, onError: { _ in errors += 1 })
        return converted != nil
    }

    /// Reads records until the end, going on after errors; the reader must make progress on every call.
    static func readEveryRecord(_ reader: CSVReader, limit: Int) {
        var calls = 0
        while true {
            calls += 1
            precondition(calls <= limit + 2, "the CSV reader does not make progress")
            do {
                guard try reader.next() != nil else { break }
            } catch {
                continue
            }
        }
    }
}
