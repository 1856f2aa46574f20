# ETL-Express image for docker-compose.yaml: Airflow 3.3.2 plus the pinned lock and our package.
FROM apache/airflow:3.3.2-python3.11
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends libldap2-dev libsasl2-dev \
 && rm -rf /var/lib/apt/lists/*
USER airflow
COPY --chown=airflow:0 requirements.txt /opt/etlx/requirements.txt
RUN pip install --no-cache-dir -r /opt/etlx/requirements.txt
COPY --chown=airflow:0 pyproject.toml README.md /opt/etlx/
COPY --chown=airflow:0 etl_express /opt/etlx/etl_express
RUN pip install --no-cache-dir --no-deps /opt/etlx
