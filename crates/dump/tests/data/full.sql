/*M!999999\- enable the sandbox mode */ 
-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)
--
-- Host: localhost    Database: hard
-- ------------------------------------------------------
-- Server version	10.11.19-MariaDB-0+deb12u1-log

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;

--
-- Current Database: `hard`
--

CREATE DATABASE /*!32312 IF NOT EXISTS*/ `hard` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci */;

USE `hard`;

--
-- Table structure for table `blobs`
--

DROP TABLE IF EXISTS `blobs`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `blobs` (
  `id` int(11) NOT NULL,
  `b` longblob DEFAULT NULL,
  `tb` tinyblob DEFAULT NULL,
  `bits` bit(10) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `blobs`
--

LOCK TABLES `blobs` WRITE;
/*!40000 ALTER TABLE `blobs` DISABLE KEYS */;
INSERT INTO `blobs` VALUES
(1,'\0\';\\\"`\n\r\Z/*--#���','\0','�'),
(2,'',NULL,'\0\0'),
(3,'\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\\0�\';\\',';;','�');
/*!40000 ALTER TABLE `blobs` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `child`
--

DROP TABLE IF EXISTS `child`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `child` (
  `id` int(11) NOT NULL,
  `parent_id` int(11) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `fk_parent` (`parent_id`),
  CONSTRAINT `fk_parent` FOREIGN KEY (`parent_id`) REFERENCES `parent` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `child`
--

LOCK TABLES `child` WRITE;
/*!40000 ALTER TABLE `child` DISABLE KEYS */;
INSERT INTO `child` VALUES
(10,1),
(11,1),
(12,2);
/*!40000 ALTER TABLE `child` ENABLE KEYS */;
UNLOCK TABLES;
/*!50003 SET @saved_cs_client      = @@character_set_client */ ;
/*!50003 SET @saved_cs_results     = @@character_set_results */ ;
/*!50003 SET @saved_col_connection = @@collation_connection */ ;
/*!50003 SET character_set_client  = utf8mb4 */ ;
/*!50003 SET character_set_results = utf8mb4 */ ;
/*!50003 SET collation_connection  = utf8mb4_general_ci */ ;
/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;
/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION' */ ;
DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=`app`@`%`*/ /*!50003 TRIGGER child_ai AFTER INSERT ON child FOR EACH ROW
  UPDATE parent SET name = CONCAT(name, ';') WHERE id = NEW.parent_id 
*/;;
DELIMITER ;
/*!50003 SET sql_mode              = @saved_sql_mode */ ;
/*!50003 SET character_set_client  = @saved_cs_client */ ;
/*!50003 SET character_set_results = @saved_cs_results */ ;
/*!50003 SET collation_connection  = @saved_col_connection */ ;

--
-- Table structure for table `empty_table`
--

DROP TABLE IF EXISTS `empty_table`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `empty_table` (
  `id` int(11) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `empty_table`
--

LOCK TABLES `empty_table` WRITE;
/*!40000 ALTER TABLE `empty_table` DISABLE KEYS */;
/*!40000 ALTER TABLE `empty_table` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `gen`
--

DROP TABLE IF EXISTS `gen`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `gen` (
  `a` int(11) DEFAULT NULL,
  `b` int(11) GENERATED ALWAYS AS (`a` * 2) VIRTUAL,
  `c` varchar(20) GENERATED ALWAYS AS (concat('v;',`a`)) STORED,
  KEY `c` (`c`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `gen`
--

LOCK TABLES `gen` WRITE;
/*!40000 ALTER TABLE `gen` DISABLE KEYS */;
INSERT INTO `gen` VALUES
(1,2,'v;1'),
(2,4,'v;2'),
(3,6,'v;3');
/*!40000 ALTER TABLE `gen` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `geo`
--

DROP TABLE IF EXISTS `geo`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `geo` (
  `id` int(11) NOT NULL,
  `g` geometry NOT NULL,
  `p` point DEFAULT NULL,
  PRIMARY KEY (`id`),
  SPATIAL KEY `g` (`g`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `geo`
--

LOCK TABLES `geo` WRITE;
/*!40000 ALTER TABLE `geo` DISABLE KEYS */;
INSERT INTO `geo` VALUES
(1,'\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0$@\0\0\0\0\0\0\0\0\0\0\0\0\0\0$@\0\0\0\0\0\0$@\0\0\0\0\0\0\0\0\0\0\0\0\0\0$@\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0','\0\0\0\0\0\0\0\0\0\0\0\0\0�?\0\0\0\0\0\0\0@'),
(2,'\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0�?\0\0\0\0\0\0�?\0\0\0\0\0\0\0@\0\0\0\0\0\0\0@',NULL);
/*!40000 ALTER TABLE `geo` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `nopk`
--

DROP TABLE IF EXISTS `nopk`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `nopk` (
  `x` int(11) DEFAULT NULL,
  `y` varchar(5) DEFAULT NULL
) ENGINE=MyISAM DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `nopk`
--

LOCK TABLES `nopk` WRITE;
/*!40000 ALTER TABLE `nopk` DISABLE KEYS */;
INSERT INTO `nopk` VALUES
(1,'a'),
(1,'a'),
(NULL,NULL);
/*!40000 ALTER TABLE `nopk` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `parent`
--

DROP TABLE IF EXISTS `parent`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `parent` (
  `id` int(11) NOT NULL,
  `name` varchar(10) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `parent`
--

LOCK TABLES `parent` WRITE;
/*!40000 ALTER TABLE `parent` DISABLE KEYS */;
INSERT INTO `parent` VALUES
(1,'a'),
(2,'b');
/*!40000 ALTER TABLE `parent` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Table structure for table `strings`
--

DROP TABLE IF EXISTS `strings`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `strings` (
  `id` int(11) NOT NULL,
  `s` varchar(200) DEFAULT NULL,
  `t` text DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `strings`
--

LOCK TABLES `strings` WRITE;
/*!40000 ALTER TABLE `strings` DISABLE KEYS */;
INSERT INTO `strings` VALUES
(1,'it\'s','back\\slash \\\' end'),
(2,'semi; colon;','DELIMITER ;;\nSELECT 1;;\nDELIMITER ;'),
(3,'-- not a comment','/* nor this */ # nor this'),
(4,'nul\0byte','line\nbreak\r	tab \Z ctrl-z'),
(5,'héllo wörld ✓ 日本語 🎉','\"double\" `back`'),
(6,NULL,''),
(7,'/*!40101 SET x=1 */;','USE other; DROP TABLE x;'),
(8,'long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;long;','é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;é\\;');
/*!40000 ALTER TABLE `strings` ENABLE KEYS */;
UNLOCK TABLES;
/*!50003 SET @saved_cs_client      = @@character_set_client */ ;
/*!50003 SET @saved_cs_results     = @@character_set_results */ ;
/*!50003 SET @saved_col_connection = @@collation_connection */ ;
/*!50003 SET character_set_client  = utf8mb4 */ ;
/*!50003 SET character_set_results = utf8mb4 */ ;
/*!50003 SET collation_connection  = utf8mb4_general_ci */ ;
/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;
/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION' */ ;
DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER strings_bi BEFORE INSERT ON strings FOR EACH ROW
BEGIN
  
  IF NEW.s = 'DELIMITER ;' THEN SET NEW.s = 'x;y'; END IF;
  SET NEW.t = CONCAT(NEW.t, '/* not a comment */');
END 
*/;;
DELIMITER ;
/*!50003 SET sql_mode              = @saved_sql_mode */ ;
/*!50003 SET character_set_client  = @saved_cs_client */ ;
/*!50003 SET character_set_results = @saved_cs_results */ ;
/*!50003 SET collation_connection  = @saved_col_connection */ ;

--
-- Temporary table structure for view `v1`
--

DROP TABLE IF EXISTS `v1`;
/*!50001 DROP VIEW IF EXISTS `v1`*/;
SET @saved_cs_client     = @@character_set_client;
SET character_set_client = utf8mb4;
/*!50001 CREATE VIEW `v1` AS SELECT
 NULL AS `id`,
 NULL AS `s` */;
SET character_set_client = @saved_cs_client;

--
-- Temporary table structure for view `v2`
--

DROP TABLE IF EXISTS `v2`;
/*!50001 DROP VIEW IF EXISTS `v2`*/;
SET @saved_cs_client     = @@character_set_client;
SET character_set_client = utf8mb4;
/*!50001 CREATE VIEW `v2` AS SELECT
 NULL AS `id` */;
SET character_set_client = @saved_cs_client;

--
-- Table structure for table `we``ird;name`
--

DROP TABLE IF EXISTS `we``ird;name`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `we``ird;name` (
  `col``q` int(11) DEFAULT NULL,
  `d;` date DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `we``ird;name`
--

LOCK TABLES `we``ird;name` WRITE;
/*!40000 ALTER TABLE `we``ird;name` DISABLE KEYS */;
INSERT INTO `we``ird;name` VALUES
(1,'2024-02-29');
/*!40000 ALTER TABLE `we``ird;name` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Dumping events for database 'hard'
--
/*!50106 SET @save_time_zone= @@TIME_ZONE */ ;
/*!50106 DROP EVENT IF EXISTS `ev_cleanup` */;
DELIMITER ;;
/*!50003 SET @saved_cs_client      = @@character_set_client */ ;;
/*!50003 SET @saved_cs_results     = @@character_set_results */ ;;
/*!50003 SET @saved_col_connection = @@collation_connection */ ;;
/*!50003 SET character_set_client  = utf8mb4 */ ;;
/*!50003 SET character_set_results = utf8mb4 */ ;;
/*!50003 SET collation_connection  = utf8mb4_general_ci */ ;;
/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;;
/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION' */ ;;
/*!50003 SET @saved_time_zone      = @@time_zone */ ;;
/*!50003 SET time_zone             = 'SYSTEM' */ ;;
/*!50106 CREATE*/ /*!50117 DEFINER=`root`@`localhost`*/ /*!50106 EVENT `ev_cleanup` ON SCHEDULE EVERY 1 DAY STARTS '2026-12-02 15:42:29' ON COMPLETION NOT PRESERVE DISABLE DO BEGIN
  DELETE FROM nopk WHERE x IS NULL;
  INSERT INTO nopk VALUES (0, ';');
END 
*/ ;;
/*!50003 SET time_zone             = @saved_time_zone */ ;;
/*!50003 SET sql_mode              = @saved_sql_mode */ ;;
/*!50003 SET character_set_client  = @saved_cs_client */ ;;
/*!50003 SET character_set_results = @saved_cs_results */ ;;
/*!50003 SET collation_connection  = @saved_col_connection */ ;;
DELIMITER ;
/*!50106 SET TIME_ZONE= @save_time_zone */ ;

--
-- Dumping routines for database 'hard'
--
/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;
/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION' */ ;
/*!50003 DROP FUNCTION IF EXISTS `f_semi` */;
/*!50003 SET @saved_cs_client      = @@character_set_client */ ;
/*!50003 SET @saved_cs_results     = @@character_set_results */ ;
/*!50003 SET @saved_col_connection = @@collation_connection */ ;
/*!50003 SET character_set_client  = utf8mb4 */ ;
/*!50003 SET character_set_results = utf8mb4 */ ;
/*!50003 SET collation_connection  = utf8mb4_general_ci */ ;
DELIMITER ;;
CREATE DEFINER=`weird user`@`10.0.%` FUNCTION `f_semi`(s TEXT) RETURNS text CHARSET utf8mb4 COLLATE utf8mb4_general_ci
    DETERMINISTIC
BEGIN
  RETURN REPLACE(s, ';', '\\;');
END
;;
DELIMITER ;
/*!50003 SET sql_mode              = @saved_sql_mode */ ;
/*!50003 SET character_set_client  = @saved_cs_client */ ;
/*!50003 SET character_set_results = @saved_cs_results */ ;
/*!50003 SET collation_connection  = @saved_col_connection */ ;
/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;
/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION' */ ;
/*!50003 DROP PROCEDURE IF EXISTS `p_count` */;
/*!50003 SET @saved_cs_client      = @@character_set_client */ ;
/*!50003 SET @saved_cs_results     = @@character_set_results */ ;
/*!50003 SET @saved_col_connection = @@collation_connection */ ;
/*!50003 SET character_set_client  = utf8mb4 */ ;
/*!50003 SET character_set_results = utf8mb4 */ ;
/*!50003 SET collation_connection  = utf8mb4_general_ci */ ;
DELIMITER ;;
CREATE DEFINER=`root`@`localhost` PROCEDURE `p_count`(IN lim INT, OUT n INT)
BEGIN
  
  SELECT COUNT(*) INTO n FROM strings WHERE id < lim;
  SELECT 'END;' AS e;
END
;;
DELIMITER ;
/*!50003 SET sql_mode              = @saved_sql_mode */ ;
/*!50003 SET character_set_client  = @saved_cs_client */ ;
/*!50003 SET character_set_results = @saved_cs_results */ ;
/*!50003 SET collation_connection  = @saved_col_connection */ ;
/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;
/*!50003 SET sql_mode              = 'NO_BACKSLASH_ESCAPES' */ ;
/*!50003 DROP PROCEDURE IF EXISTS `p_nbe` */;
/*!50003 SET @saved_cs_client      = @@character_set_client */ ;
/*!50003 SET @saved_cs_results     = @@character_set_results */ ;
/*!50003 SET @saved_col_connection = @@collation_connection */ ;
/*!50003 SET character_set_client  = utf8mb4 */ ;
/*!50003 SET character_set_results = utf8mb4 */ ;
/*!50003 SET collation_connection  = utf8mb4_general_ci */ ;
DELIMITER ;;
CREATE DEFINER=`root`@`localhost` PROCEDURE `p_nbe`()
SELECT 'back\slash' AS s
;;
DELIMITER ;
/*!50003 SET sql_mode              = @saved_sql_mode */ ;
/*!50003 SET character_set_client  = @saved_cs_client */ ;
/*!50003 SET character_set_results = @saved_cs_results */ ;
/*!50003 SET collation_connection  = @saved_col_connection */ ;

--
-- Current Database: `hard2`
--

CREATE DATABASE /*!32312 IF NOT EXISTS*/ `hard2` /*!40100 DEFAULT CHARACTER SET latin1 COLLATE latin1_swedish_ci */;

USE `hard2`;

--
-- Table structure for table `t`
--

DROP TABLE IF EXISTS `t`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `t` (
  `id` int(11) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `t`
--

LOCK TABLES `t` WRITE;
/*!40000 ALTER TABLE `t` DISABLE KEYS */;
INSERT INTO `t` VALUES
(1),
(2);
/*!40000 ALTER TABLE `t` ENABLE KEYS */;
UNLOCK TABLES;

--
-- Temporary table structure for view `v_other`
--

DROP TABLE IF EXISTS `v_other`;
/*!50001 DROP VIEW IF EXISTS `v_other`*/;
SET @saved_cs_client     = @@character_set_client;
SET character_set_client = utf8mb4;
/*!50001 CREATE VIEW `v_other` AS SELECT
 NULL AS `id` */;
SET character_set_client = @saved_cs_client;

--
-- Dumping events for database 'hard2'
--

--
-- Dumping routines for database 'hard2'
--

--
-- Current Database: `hard`
--

USE `hard`;

--
-- Final view structure for view `v1`
--

/*!50001 DROP VIEW IF EXISTS `v1`*/;
/*!50001 SET @saved_cs_client          = @@character_set_client */;
/*!50001 SET @saved_cs_results         = @@character_set_results */;
/*!50001 SET @saved_col_connection     = @@collation_connection */;
/*!50001 SET character_set_client      = utf8mb4 */;
/*!50001 SET character_set_results     = utf8mb4 */;
/*!50001 SET collation_connection      = utf8mb4_general_ci */;
/*!50001 CREATE ALGORITHM=UNDEFINED */
/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */
/*!50001 VIEW `v1` AS select `strings`.`id` AS `id`,`strings`.`s` AS `s` from `strings` where `strings`.`s` <> ';' */;
/*!50001 SET character_set_client      = @saved_cs_client */;
/*!50001 SET character_set_results     = @saved_cs_results */;
/*!50001 SET collation_connection      = @saved_col_connection */;

--
-- Final view structure for view `v2`
--

/*!50001 DROP VIEW IF EXISTS `v2`*/;
/*!50001 SET @saved_cs_client          = @@character_set_client */;
/*!50001 SET @saved_cs_results         = @@character_set_results */;
/*!50001 SET @saved_col_connection     = @@collation_connection */;
/*!50001 SET character_set_client      = utf8mb4 */;
/*!50001 SET character_set_results     = utf8mb4 */;
/*!50001 SET collation_connection      = utf8mb4_general_ci */;
/*!50001 CREATE ALGORITHM=UNDEFINED */
/*!50013 DEFINER=`app`@`%` SQL SECURITY INVOKER */
/*!50001 VIEW `v2` AS select `v1`.`id` AS `id` from `v1` */;
/*!50001 SET character_set_client      = @saved_cs_client */;
/*!50001 SET character_set_results     = @saved_cs_results */;
/*!50001 SET collation_connection      = @saved_col_connection */;

--
-- Current Database: `hard2`
--

USE `hard2`;

--
-- Final view structure for view `v_other`
--

/*!50001 DROP VIEW IF EXISTS `v_other`*/;
/*!50001 SET @saved_cs_client          = @@character_set_client */;
/*!50001 SET @saved_cs_results         = @@character_set_results */;
/*!50001 SET @saved_col_connection     = @@collation_connection */;
/*!50001 SET character_set_client      = utf8mb4 */;
/*!50001 SET character_set_results     = utf8mb4 */;
/*!50001 SET collation_connection      = utf8mb4_general_ci */;
/*!50001 CREATE ALGORITHM=UNDEFINED */
/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */
/*!50001 VIEW `v_other` AS select `v2`.`id` AS `id` from `hard`.`v2` */;
/*!50001 SET character_set_client      = @saved_cs_client */;
/*!50001 SET character_set_results     = @saved_cs_results */;
/*!50001 SET collation_connection      = @saved_col_connection */;
/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;

/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;

-- Dump completed on 2026-12-02 15:42:30
