"""API shapes of registry records and import reports."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from changan.plates import PlateClass
from changan.registry.importer import BODY_COLOURS
from changan.registry.models import RegistryRow


class RegistryOut(BaseModel):
    """One registered vehicle, with Chinese labels for the coded fields."""

    vehicle_key: str = Field(description="车辆标识：号牌种类:号牌号码，如 02:鲁P12345")
    plate_no: str = Field(description="号牌号码")
    plate_class: str = Field(description="号牌种类代码（GA 24.7）")
    plate_class_zh: str | None = Field(description="号牌种类名称")
    vehicle_class: str | None = Field(description="车辆类型代码（GA 24.4），如 K33")
    use: str | None = Field(description="使用性质，如 非营运、公路客运")
    body_colour: str | None = Field(description="车身颜色代码（GA 24.8），如 A")
    body_colour_zh: str | None = Field(description="车身颜色名称，如 白")
    brand: str | None = Field(description="品牌")
    model: str | None = Field(description="车辆型号")
    operator: str | None = Field(description="所有人或运营单位")
    source: str = Field(description="数据来源（导入文件或服务）")
    updated_at: datetime = Field(description="最近一次变更的时间")

    @classmethod
    def of(cls, row: RegistryRow) -> RegistryOut:
        plate_class = PlateClass.try_parse(row.plate_class)
        colour = row.body_colour
        return cls(
            vehicle_key=row.vehicle_key,
            plate_no=row.plate_no,
            plate_class=row.plate_class,
            plate_class_zh=plate_class.label_zh if plate_class else None,
            vehicle_class=row.vehicle_class,
            use=row.use,
            body_colour=colour,
            body_colour_zh="".join(BODY_COLOURS.get(c, c) for c in colour) if colour else None,
            brand=row.brand,
            model=row.model,
            operator=row.operator,
            source=row.source,
            updated_at=row.updated_at,
        )


class ImportIssueOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    row: int = Field(description="行号：CSV、JSON Lines 为文件行号（表头为第 1 行），Parquet 为记录序号")
    field: str = Field(description="出问题的字段")
    reason: str = Field(description="原因")
    severity: str = Field(description="error：整行未导入；warning：该值已忽略，其余已导入")
    value: str | None = Field(description="原值（过长时截断）")


class ImportReportOut(BaseModel):
    source: str
    format: str
    rows: int = Field(description="读到的数据行数")
    accepted: int = Field(description="有效行数")
    rejected: int = Field(description="拒收行数（见 issues 中 severity=error）")
    inserted: int
    updated: int
    unchanged: int = Field(description="与库中相同、未改写的行数（重复导入时）")
    duplicates: int = Field(description="文件内重复的车辆（以后出现的一行为准）")
    warnings: int
    ignored_columns: list[str] = Field(description="未识别、已忽略的列")
    issues: list[ImportIssueOut]
    issues_total: int
    issues_truncated: bool = Field(description="issues 是否只列出了前一部分")
