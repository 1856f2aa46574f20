-- Databases beside Airflow's on the Compose PostgreSQL: ours and the demo source.
CREATE DATABASE etlx OWNER airflow;
CREATE DATABASE etlx_demo OWNER airflow;
