import EntenteCore
import EntenteDomain

extension CSVPlan {
    /// Writes objects as CSV in the mapping's columns and formats: the key column, then the mapped columns in
    /// mapping order; values in the mapping's date and number formats, choices as the first CRM value of the
    /// value map, money as a plain amount with its code in the currency column.
    ///
    /// Re-importing the text with the same mapping gives back the values an import produced (`Specs/csv.md`,
    /// "Round trip").
    /// - Parameters:
    ///   - rows: the objects, in the order to write them.
    ///   - companyName: the name to write for a company id (nil: the id itself).
    ///   - lineEnding: CRLF (RFC 4180, the default) or LF.
    ///   - byteOrderMark: start with a UTF-8 byte-order mark (spreadsheets then detect UTF-8).
    /// - Throws: `CSVError` (`unrepresentable`) if a set element cannot be written (it holds the separator, or
    ///   starts or ends with a space).
    public func export(
        _ rows: [ExportRow],
        companyName: (String) -> String? = { _ in nil },
        lineEnding: CSVWriter.LineEnding = .crlf,
        byteOrderMark: Bool = false
    ) throws(CSVError) -> String {
        exportHeaderText(lineEnding: lineEnding, byteOrderMark: byteOrderMark)
            + (try exportRows(rows, companyName: companyName, lineEnding: lineEnding))
    }

    /// The header line of an export written a page at a time: write it, then ``exportRows(_:companyName:lineEnding:)``
    /// of each page; together they are the text ``export(_:companyName:lineEnding:byteOrderMark:)`` returns.
    public func exportHeaderText(lineEnding: CSVWriter.LineEnding = .crlf, byteOrderMark: Bool = false) -> String {
        CSVWriter(header: exportHeader, lineEnding: lineEnding, byteOrderMark: byteOrderMark).text
    }

    /// The lines of `rows` alone, without the header (see ``exportHeaderText(lineEnding:byteOrderMark:)``).
    /// - Throws: `CSVError` (`unrepresentable`) as ``export(_:companyName:lineEnding:byteOrderMark:)`` does.
    public func exportRows(
        _ rows: [ExportRow],
        companyName: (String) -> String? = { _ in nil },
        lineEnding: CSVWriter.LineEnding = .crlf
    ) throws(CSVError) -> String {
        var writer = CSVWriter(lineEnding: lineEnding)
        for row in rows { writer.append(try cells(for: row, companyName: companyName)) }
        return writer.text
    }

    /// Writes objects to a CSV file (see ``export(_:companyName:lineEnding:byteOrderMark:)``).
    /// - Throws: `CSVError` if a value cannot be written or the file cannot be written.
    public func export(
        _ rows: [ExportRow],
        toFileAt path: String,
        companyName: (String) -> String? = { _ in nil },
        lineEnding: CSVWriter.LineEnding = .crlf,
        byteOrderMark: Bool = false
    ) throws(CSVError) {
        let text = try export(rows, companyName: companyName, lineEnding: lineEnding, byteOrderMark: byteOrderMark)
        try FileIO.write(text, to: path)
    }

    /// The cells of one row, in `exportHeader` order.
    func cells(for row: ExportRow, companyName: (String) -> String?) throws(CSVError) -> [String] {
        var currencyCells: [String: String] = [:]
        for (index, layout) in exportLayout.enumerated() {
            guard case .currency(let users) = layout else { continue }
            var code = ""
            for user in users {
                if case .money(let money)? = row.values[columns[user].field] {
                    code = money.currency.code
                    break
                }
            }
            currencyCells[exportHeader[index]] = code
        }
        var out: [String] = []
        out.reserveCapacity(exportLayout.count)
        for (index, layout) in exportLayout.enumerated() {
            switch layout {
            case .key:
                out.append(row.key)
            case .currency:
                out.append(currencyCells[exportHeader[index]] ?? "")
            case .fields(let users):
                var renders: [String] = []
                for user in users {
                    renders.append(try render(user, row: row, currencyCells: currencyCells, companyName: companyName))
                }
                out.append(
                    choose(renders, users: users, row: row, currencyCells: currencyCells, companyName: companyName)
                )
            }
        }
        return out
    }

    /// For a CSV column that feeds several fields (a CRM stage mapped to `stage` and kept raw in `crm_stage`):
    /// the first rendering that re-imports to every field's current value, else the first field's rendering.
    private func choose(
        _ renders: [String],
        users: [Int],
        row: ExportRow,
        currencyCells: [String: String],
        companyName: (String) -> String?
    ) -> String {
        guard renders.count > 1 else { return renders[0] }
        for candidate in renders {
            let fits = users.allSatisfy { user in
                let column = columns[user]
                let outcome = column.read(
                    candidate,
                    currencyCell: column.currencyColumn.flatMap { currencyCells[$0] },
                    numberFormat: numberFormat,
                    resolveCompany: { name in
                        if case .string(let id)? = row.values[column.field], companyName(id) == name { return id }
                        return CSVPlan.companyIDs(name)
                    }
                )
                return Self.same(outcome, current(column, row))
            }
            if fits { return candidate }
        }
        return renders[0]
    }

    private func current(_ column: ResolvedColumn, _ row: ExportRow) -> CellOutcome {
        if column.type == .set { return row.sets[column.field].map(CellOutcome.elements) ?? .absent }
        return row.values[column.field].map(CellOutcome.value) ?? .absent
    }

    private static func same(_ lhs: CellOutcome, _ rhs: CellOutcome) -> Bool {
        func normal(_ outcome: CellOutcome) -> CellOutcome {
            switch outcome {
            case .value(.null), .elements([]): .absent
            default: outcome
            }
        }
        switch (normal(lhs), normal(rhs)) {
        case (.elements(let left), .elements(let right)): return Set(left) == Set(right)
        case (let left, let right): return left == right
        }
    }

    private func render(
        _ index: Int,
        row: ExportRow,
        currencyCells: [String: String],
        companyName: (String) -> String?
    ) throws(CSVError) -> String {
        let column = columns[index]
        if column.type == .set {
            var elements: [String] = []
            for element in (row.sets[column.field] ?? []).sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                let written = column.values?.crm(for: element) ?? element
                guard !written.isEmpty, Lenient.trim(written) == written, !written.contains(column.separator) else {
                    throw CSVError(
                        .unrepresentable,
                        "row '\(row.key)': element '\(written)' of \(column.field) cannot be written in column "
                            + "'\(column.column)' (elements are separated by '\(column.separator)' and trimmed)"
                    )
                }
                if !elements.contains(written) { elements.append(written) }
            }
            return elements.joined(separator: column.separator)
        }
        guard let value = row.values[column.field], value != .null else { return "" }
        let canonical: String
        switch (column.type, value) {
        case (.decimal, .decimal(let number)):
            return numberFormat.render(number)
        case (.money, .money(let money)):
            let amount = numberFormat.render(money.amount, minimumFractionDigits: 2)
            let given = column.currencyColumn.flatMap { currencyCells[$0] }.flatMap { $0.isEmpty ? nil : $0 }
            let written = given ?? column.currency?.code
            return written == money.currency.code ? amount : amount + " " + money.currency.code
        case (.date, .date(let date)):
            return column.exportDate.render(date)
        case (.timestamp, .timestamp(let milliseconds)):
            return CalendarDate.iso8601(milliseconds: milliseconds)
        case (.reference, .reference(let id)):
            return id.hex
        case (.company, .string(let id)):
            canonical = companyName(id) ?? id
        case (_, .string(let text)), (_, .enumeration(let text)):
            canonical = text
        default:
            canonical = value.description
        }
        return column.values?.crm(for: canonical) ?? canonical
    }
}
