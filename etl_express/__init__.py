"""ETL-Express: extract, clean, validate and anonymize data on Apache Airflow."""

__version__ = "0.1.0"
